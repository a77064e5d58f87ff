package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;

/**
 * GPTQ (Frantar et al. 2022, as gpt-fast implements it) into standard 32-value blocks (Q8_0, Q4_0, Q4_1, Q5_0,
 * Q5_1, IQ4_NL: the types llama.cpp's mixes give rows that are not a multiple of 256 too): columns are
 * rounded one at a time and each one's rounding error, weighted by the inverse Hessian of the layer's inputs, is
 * pushed onto the columns not yet rounded, so the layer's outputs on the calibration activations move less than
 * with plain rounding. Row-major W (rows = outputs, cols = inputs) and H = 2 X^T X (cols x cols, X the layer's
 * calibration inputs, one row per token).
 *
 * <p>Steps: columns whose H diagonal is 0 (inputs never active) are zeroed; H gets 1% of its mean diagonal added
 * (damping), then U = the upper Cholesky factor of H^-1. Columns go in blocks of 128: inside a block the error of
 * column i updates the block's later columns at once (err * U[i, j] / U[i, i]); after the block, the block's
 * errors update all later columns in one product. Each 32-column group gets its block scale (and min) as the type's
 * own round-to-nearest encoder ({@link BlockEncoder}) picks it for the group's values as they stand when its first
 * column is reached, after the earlier columns' compensation; each column's level is then the nearest one under the
 * stored (f16) scale, so the levels chosen are the ones the block decodes to.
 */
final class Gptq {
    static final int BLOCK_COLUMNS = 128;
    static final double DAMPING = 0.01;
    static final int GROUP = 32;

    private Gptq() {
    }

    /** True for the block types this produces. */
    static boolean supports(GgmlType type) {
        return switch (type) {
            case Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL -> true;
            default -> false;
        };
    }

    /**
     * Quantizes {@code w} (rows x cols, row-major, modified in place) with Hessian {@code h} (cols x cols,
     * row-major, modified in place) into {@code out}: rows of {@code type} blocks, row after row.
     */
    static void quantize(GgmlType type, float[] w, int rows, int cols, double[] h, byte[] out) {
        if (!supports(type) || cols % GROUP != 0) {
            throw new IllegalArgumentException("GPTQ writes Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 or IQ4_NL rows of multiples"
                    + " of 32, not " + type + " x " + cols);
        }
        double meanDiag = 0;
        for (int i = 0; i < cols; i++) {
            meanDiag += h[i * cols + i];
        }
        meanDiag /= cols;
        for (int i = 0; i < cols; i++) {
            if (h[i * cols + i] == 0) {
                h[i * cols + i] = 1;
                for (int r = 0; r < rows; r++) {
                    w[r * cols + i] = 0;
                }
            }
        }
        double damp = DAMPING * (meanDiag > 0 ? meanDiag : 1);
        for (int i = 0; i < cols; i++) {
            h[i * cols + i] += damp;
        }
        double[] u = upperCholeskyOfInverse(h, cols);

        int rowBytes = (int) type.bytesFor(cols);
        float[] scale = new float[rows];
        float[] min = new float[rows];
        byte[] level = new byte[rows];
        double[] err = new double[rows * BLOCK_COLUMNS];
        BlockEncoder encoder = BlockEncoder.of(type);
        float[] group = new float[GROUP];
        for (int b = 0; b < cols; b += BLOCK_COLUMNS) {
            int e = Math.min(cols, b + BLOCK_COLUMNS);
            for (int c = b; c < e; c++) {
                if (c % GROUP == 0) {
                    // The encoder writes the whole block; its levels are overwritten column by column below.
                    for (int r = 0; r < rows; r++) {
                        int o = r * rowBytes + (c / GROUP) * type.blockBytes;
                        System.arraycopy(w, r * cols + c, group, 0, GROUP);
                        encoder.encodeBlock(group, 0, out, o);
                        scale[r] = BlockEncoder.half(out, o);
                        min[r] = type == GgmlType.Q4_1 || type == GgmlType.Q5_1 ? BlockEncoder.half(out, o + 2) : 0;
                    }
                }
                double d = u[c * cols + c];
                for (int r = 0; r < rows; r++) {
                    float x = w[r * cols + c];
                    int q = level(type, x, scale[r], min[r]);
                    level[r] = (byte) q;
                    float dq = dequantize(type, q, scale[r], min[r]);
                    double er = (x - dq) / d;
                    err[r * BLOCK_COLUMNS + (c - b)] = er;
                    int row = r * cols;
                    for (int j = c + 1; j < e; j++) {
                        w[row + j] -= (float) (er * u[c * cols + j]);
                    }
                }
                for (int r = 0; r < rows; r++) {
                    putLevel(type, out, r * rowBytes + (c / GROUP) * type.blockBytes, c % GROUP, level[r]);
                }
            }
            // The block's errors onto every later column: W[:, e:] -= Err @ U[b:e, e:].
            for (int r = 0; r < rows; r++) {
                int row = r * cols;
                for (int i = b; i < e; i++) {
                    double er = err[r * BLOCK_COLUMNS + (i - b)];
                    if (er == 0) {
                        continue;
                    }
                    int ui = i * cols;
                    for (int j = e; j < cols; j++) {
                        w[row + j] -= (float) (er * u[ui + j]);
                    }
                }
            }
        }
    }

    private static int level(GgmlType type, float x, float d, float m) {
        if (d == 0) {
            return switch (type) {
                case Q4_0 -> 8;
                case Q5_0 -> 16;
                case IQ4_NL -> 8; // level 1 x 0
                default -> 0;
            };
        }
        return switch (type) {
            case Q8_0 -> Math.clamp(Math.round(x / d), -128, 127);
            case Q4_0 -> Math.clamp(Math.round(x / d) + 8, 0, 15);
            case Q5_0 -> Math.clamp(Math.round(x / d) + 16, 0, 31);
            case Q4_1 -> Math.clamp(Math.round((x - m) / d), 0, 15);
            case Q5_1 -> Math.clamp(Math.round((x - m) / d), 0, 31);
            case IQ4_NL -> IQ4_NLEncoder.bestIndex(x / d);
            default -> throw new IllegalStateException();
        };
    }

    private static float dequantize(GgmlType type, int q, float d, float m) {
        return switch (type) {
            case Q8_0 -> d * q;
            case Q4_0 -> d * (q - 8);
            case Q5_0 -> d * (q - 16);
            case IQ4_NL -> d * IQ4_NLEncoder.level(q);
            default -> d * q + m;
        };
    }

    /** Stores level {@code q} of value {@code j} of the block at {@code out[o..]} (layouts as in the encoders). */
    private static void putLevel(GgmlType type, byte[] out, int o, int j, int q) {
        switch (type) {
            case Q8_0 -> out[o + 2 + j] = (byte) q;
            case Q4_0, Q4_1, IQ4_NL -> {
                // [d f16][(Q4_1: m f16)][qs 16: value j's nibble, j < 16 low]; IQ4_NL's nibble is a table index.
                int p = o + (type == GgmlType.Q4_1 ? 4 : 2) + (j & 15);
                out[p] = (byte) (j < 16 ? (out[p] & 0xF0) | q : (out[p] & 0x0F) | q << 4);
            }
            case Q5_0, Q5_1 -> {
                // [d f16][(Q5_1: m f16)][qh: bit j = bit 4 of value j][qs 16: value j's low 4 bits, j < 16 low]
                int header = type == GgmlType.Q5_1 ? 4 : 2;
                int p = o + header + 4 + (j & 15);
                int low = q & 0x0F;
                out[p] = (byte) (j < 16 ? (out[p] & 0xF0) | low : (out[p] & 0x0F) | low << 4);
                int h = o + header + j / 8;
                out[h] = (byte) ((out[h] & ~(1 << (j % 8))) | ((q >> 4) & 1) << (j % 8));
            }
            default -> throw new IllegalStateException();
        }
    }

    /**
     * U upper triangular with U^T U = H^-1, for H symmetric positive definite (n x n, row-major; overwritten).
     * H = L L^T, H^-1 = L^-T L^-1, then the lower Cholesky factor L2 of H^-1 gives U = L2^T.
     */
    static double[] upperCholeskyOfInverse(double[] h, int n) {
        choleskyInPlace(h, n);
        // Invert L (lower) in place: forward substitution column by column.
        double[] inv = new double[n * n];
        for (int j = 0; j < n; j++) {
            inv[j * n + j] = 1 / h[j * n + j];
            for (int i = j + 1; i < n; i++) {
                double s = 0;
                for (int k = j; k < i; k++) {
                    s += h[i * n + k] * inv[k * n + j];
                }
                inv[i * n + j] = -s / h[i * n + i];
            }
        }
        // H^-1 = inv^T inv (symmetric; fill both halves).
        double[] hinv = h;
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                double s = 0;
                for (int k = j; k < n; k++) {
                    s += inv[k * n + i] * inv[k * n + j];
                }
                hinv[i * n + j] = s;
                hinv[j * n + i] = s;
            }
        }
        choleskyInPlace(hinv, n);
        double[] u = inv;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                u[i * n + j] = j >= i ? hinv[j * n + i] : 0;
            }
        }
        return u;
    }

    /** The lower Cholesky factor of {@code a} in its lower triangle (the upper triangle is left as it was). */
    private static void choleskyInPlace(double[] a, int n) {
        for (int j = 0; j < n; j++) {
            double s = a[j * n + j];
            for (int k = 0; k < j; k++) {
                s -= a[j * n + k] * a[j * n + k];
            }
            if (!(s > 0)) {
                throw new IllegalArgumentException("the Hessian is not positive definite at column " + j);
            }
            double l = Math.sqrt(s);
            a[j * n + j] = l;
            for (int i = j + 1; i < n; i++) {
                double t = a[i * n + j];
                for (int k = 0; k < j; k++) {
                    t -= a[i * n + k] * a[j * n + k];
                }
                a[i * n + j] = t / l;
            }
        }
    }
}
