package dev.continuum.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * The row kernel of the block formats ({@link BlockQuantTensor}): one row-major row times a group of tokens'
 * quantized activations, in the fixed order of {@link BlockQuantTensor#dot}. Each block of the row is decoded once
 * into the thread's {@link RowScratch} (integer levels, scales, mins, factors) and serves every token of the group
 * ({@value RowScratch#TOKENS} at most) before the next block is read, so a decode batch reads and decodes the
 * weights once per step, not once per token. Groups of tokens beyond that repeat the row. This is the table's
 * "several tokens per row read" kernel; {@link FormatKernels}' set kernels cannot serve it, since they take sets
 * of interleaved rows, hence its own slot ({@link FormatKernels#rowTokens}).
 *
 * <p>The scalar kernel here serves JVMs without the vector kernels; {@link Vectorized} is the same computation with
 * a vector decoder per format ({@link BlockLevels}) and the 32 products of a tile in integer lanes.
 *
 * <p>Speed (PERFORMANCE.md, "Block formats"): about 2.5 G multiply-adds per second per thread for Q4_K at one
 * token against about 25 G for Q4_0's interleaved single-token kernel. The fixed order asks for an exact integer per
 * tile, row and token, so a row-major kernel pays a horizontal sum of a vector per tile and a scalar FMA chain, where
 * Q4_0's kernel holds a set's rows in the lanes and needs neither; doing the same here needs an interleaved layout
 * per format (not yet written).
 */
final class BlockRowKernel {
    private BlockRowKernel() {
    }

    /**
     * Tokens {@code token .. token + tokens - 1} of {@code qa} times the row whose first block is at byte
     * {@code base}; token {@code token + i}'s output to {@code out[oo + i * os]}.
     */
    static void multiply(BlockFormat f, MemorySegment data, long base, int blocks, QuantizedActivations qa,
                         int token, int tokens, float[] out, int oo, int os, RowScratch s) {
        int tilesPerBlock = f.blockSize / WeightTensor.TILE;
        int tiles = qa.tiles;
        int cols = qa.cols;
        byte[] levels = s.levels;
        int[] scales = s.scales;
        float[] totals = s.totals;
        for (int first = 0; first < tokens; first += RowScratch.TOKENS) {
            int group = Math.min(RowScratch.TOKENS, tokens - first);
            java.util.Arrays.fill(totals, 0, group, 0f);
            for (int b = 0; b < blocks; b++) {
                f.decode(data, base + (long) b * f.blockBytes, levels, scales, s.factors);
                float d = s.factors[0];
                float dmin = s.factors[1];
                for (int k = 0; k < tilesPerBlock; k++) {
                    int tile = b * tilesPerBlock + k;
                    int s0 = scales[2 * k];
                    int s1 = scales[2 * k + 1];
                    int m0 = scales[f.halves + 2 * k];
                    int m1 = scales[f.halves + 2 * k + 1];
                    int lo = k * WeightTensor.TILE;
                    for (int i = 0; i < group; i++) {
                        int t = token + first + i;
                        int xo = t * cols + tile * WeightTensor.TILE;
                        int p0 = 0;
                        int p1 = 0;
                        for (int j = 0; j < WeightTensor.TILE / 2; j++) {
                            p0 += levels[lo + j] * qa.shorts[xo + j];
                            p1 += levels[lo + 16 + j] * qa.shorts[xo + 16 + j];
                        }
                        int ti = t * tiles + tile;
                        float dx = qa.scales[ti];
                        float total = Math.fma((float) (s0 * p0 + s1 * p1), d * dx, totals[i]);
                        if (f.hasMin) {
                            int h = qa.halfSums[ti];
                            total = Math.fma((float) (m0 * h + m1 * (qa.sums[ti] - h)), dmin * dx, total);
                        }
                        totals[i] = total;
                    }
                }
            }
            for (int i = 0; i < group; i++) {
                out[oo + (first + i) * os] = totals[i];
            }
        }
    }

    /**
     * The Vector API kernel, in a nested class so the outer one links without {@code jdk.incubator.vector}. Per
     * tile and token: the 32 levels (bytes in the scratch) widened to shorts, times the token's 16-bit activations
     * ({@link QuantizedActivations#shorts}; products fit: |level| &lt;= 128, |xq| &lt;= 127), widened to ints
     * and added per 16-column half, then the two halves' lane sums times their scales, as in the scalar kernel.
     * A vector of {@code 2 * lanes} shorts covers a tile in 1 (512-bit), 2 (256-bit) or 4 (128-bit) steps; at 512
     * bits one step holds both halves, its two int parts being the halves exactly. Vector values never cross a
     * call: the decoders write the scratch's bytes, this loop reads them.
     */
    static final class Vectorized {
        private Vectorized() {
        }

        static void multiply(BlockFormat f, MemorySegment data, long base, int blocks, QuantizedActivations qa,
                             int token, int tokens, float[] out, int oo, int os, RowScratch s) {
            VectorSpecies<Integer> i32 = VectorShapes.INT;
            VectorSpecies<Short> s16 = VectorShapes.SHORT_WIDE;
            VectorSpecies<Byte> b8 = VectorShapes.BYTE_WIDE;
            int step = s16.length();
            int tilesPerBlock = f.blockSize / WeightTensor.TILE;
            int tiles = qa.tiles;
            int cols = qa.cols;
            byte[] levels = s.levels;
            int[] scales = s.scales;
            float[] totals = s.totals;
            short[] xq = qa.shorts;
            IntVector zero = IntVector.zero(i32);
            for (int first = 0; first < tokens; first += RowScratch.TOKENS) {
                int group = Math.min(RowScratch.TOKENS, tokens - first);
                java.util.Arrays.fill(totals, 0, group, 0f);
                for (int b = 0; b < blocks; b++) {
                    long block = base + (long) b * f.blockBytes;
                    BlockLevels.Vectorized.decode(f, data, block, levels);
                    f.scales(data, block, scales, s.factors);
                    float d = s.factors[0];
                    float dmin = s.factors[1];
                    // Token by token over the block's tiles: each token's running total stays in a register
                    // through the block (its tiles still in order), and the decoded block stays in L1. Measured
                    // against tokens inside the tile loop: 3.0 against 1.1 G multiply-adds per second at one token.
                    for (int i = 0; i < group; i++) {
                        int t = token + first + i;
                        int tile0 = b * tilesPerBlock;
                        int xb = t * cols + tile0 * WeightTensor.TILE;
                        int tb = t * tiles + tile0;
                        float total = totals[i];
                        for (int k = 0; k < tilesPerBlock; k++) {
                            int lo = k * WeightTensor.TILE;
                            int xo = xb + lo;
                            IntVector a0 = zero;
                            IntVector a1 = zero;
                            for (int c = 0; c < WeightTensor.TILE; c += step) {
                                ShortVector w = (ShortVector) ByteVector.fromArray(b8, levels, lo + c)
                                        .convertShape(VectorOperators.B2S, s16, 0);
                                ShortVector p = w.mul(ShortVector.fromArray(s16, xq, xo + c));
                                IntVector q0 = (IntVector) p.convertShape(VectorOperators.S2I, i32, 0);
                                IntVector q1 = (IntVector) p.convertShape(VectorOperators.S2I, i32, 1);
                                if (c + step <= WeightTensor.TILE / 2) {
                                    a0 = q0.add(a0).add(q1);
                                } else if (c >= WeightTensor.TILE / 2) {
                                    a1 = q0.add(a1).add(q1);
                                } else {
                                    a0 = q0.add(a0);
                                    a1 = q1.add(a1);
                                }
                            }
                            int s0 = scales[2 * k];
                            int s1 = scales[2 * k + 1];
                            int a = s0 == s1 ? s0 * a0.add(a1).reduceLanes(VectorOperators.ADD)
                                    : s0 * a0.reduceLanes(VectorOperators.ADD) + s1 * a1.reduceLanes(VectorOperators.ADD);
                            float dx = qa.scales[tb + k];
                            total = Math.fma((float) a, d * dx, total);
                            if (f.hasMin) {
                                int h = qa.halfSums[tb + k];
                                int m = scales[f.halves + 2 * k] * h + scales[f.halves + 2 * k + 1] * (qa.sums[tb + k] - h);
                                total = Math.fma((float) m, dmin * dx, total);
                            }
                        }
                        totals[i] = total;
                    }
                }
                for (int i = 0; i < group; i++) {
                    out[oo + (first + i) * os] = totals[i];
                }
            }
        }
    }
}
