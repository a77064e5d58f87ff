package dev.continuum.quantize;

/**
 * The scale searches of ggml's K-quants ({@code make_qx_quants}, {@code make_q3_quants}, {@code make_qkx2_quants}
 * in ggml-quants.c), in the same float arithmetic and the same order of operations, so blocks come out
 * byte-identical to llama-quantize's. ggml-quants.c is built into ggml-base without {@code -march=native}, so
 * gcc has no FMA to contract {@code a*b+c} into: plain Java float arithmetic is the same arithmetic.
 */
final class ScaleSearch {
    /** Below this a group's largest magnitude counts as all zero (ggml's {@code GROUP_MAX_EPS}). */
    static final float GROUP_MAX_EPS = 1e-15f;

    private ScaleSearch() {
    }

    /**
     * ggml's {@code nearest_int}: adding 1.5 * 2^23 puts the rounded integer (round half to even) in the low
     * mantissa bits. Valid for |v| <= 2^22 - 1, which every caller guarantees.
     */
    static int nearestInt(float v) {
        int bits = Float.floatToRawIntBits(v + 12582912f);
        return (bits & 0x007fffff) - 0x00400000;
    }

    /**
     * Symmetric levels in [-nmax, nmax-1] (stored offset by nmax into {@code l}) for {@code n} values, weights
     * x^2 ({@code rmse_type} 1, no importance): tries 19 scales around nmax/max and keeps the one with the least
     * weighted squared error. Returns the scale.
     */
    static float qxQuants(int n, int nmax, float[] x, int xo, byte[] l, int lo) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) {
                l[lo + i] = 0;
            }
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[xo + i];
            int q = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
            l[lo + i] = (byte) (q + nmax);
            float w = xi * xi;
            sumlx += w * xi * q;
            suml2 += w * q * q;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) {
                continue;
            }
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xo + i];
                int q = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
                float w = xi * xi;
                sumlx += w * xi * q;
                suml2 += w * q * q;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    l[lo + i] = (byte) (nmax + clamp(nearestInt(iscale * x[xo + i]), -nmax, nmax - 1));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /**
     * Q3_K's search ({@code make_q3_quants} with {@code do_rmse}): start from nmax/max, then move single levels
     * while that lowers the x^2-weighted error, at most 5 sweeps. Levels stored offset by nmax. Returns the scale.
     */
    static float q3Quants(int n, int nmax, float[] x, int xo, byte[] l, int lo) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; i++) {
                l[lo + i] = 0;
            }
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; i++) {
            float xi = x[xo + i];
            int q = clamp(nearestInt(iscale * xi), -nmax, nmax - 1);
            l[lo + i] = (byte) q;
            float w = xi * xi;
            sumlx += w * xi * q;
            suml2 += w * q * q;
        }
        for (int itry = 0; itry < 5; itry++) {
            int changed = 0;
            for (int i = 0; i < n; i++) {
                float xi = x[xo + i];
                int li = l[lo + i];
                float w = xi * xi;
                float slx = sumlx - w * xi * li;
                if (slx > 0) {
                    float sl2 = suml2 - w * li * li;
                    int nl = clamp(nearestInt(xi * sl2 / slx), -nmax, nmax - 1);
                    if (nl != li) {
                        slx += w * xi * nl;
                        sl2 += w * nl * nl;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                            l[lo + i] = (byte) nl;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) {
                break;
            }
        }
        for (int i = 0; i < n; i++) {
            l[lo + i] += (byte) nmax;
        }
        return sumlx / suml2;
    }

    /**
     * Asymmetric levels in [0, nmax] with a minimum ({@code make_qkx2_quants}): x ~ scale * l - theMin. Tries
     * nstep+1 scales (nmax + rmin + rdelta*is)/(max - min), solving the weighted least-squares scale and min for
     * each level assignment, and keeps the least weighted error (absolute if {@code useMad}, else squared).
     * Returns the scale; {@code minOut[mi]} gets the min (a non-negative amount to subtract).
     */
    static float qkx2Quants(int n, int nmax, float[] x, int xo, float[] weights, byte[] l, int lo, float[] minOut,
                            int mi, byte[] aux, float rmin, float rdelta, int nstep, boolean useMad) {
        float min = x[xo];
        float max = x[xo];
        float sumW = weights[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; i++) {
            float xi = x[xo + i];
            if (xi < min) {
                min = xi;
            }
            if (xi > max) {
                max = xi;
            }
            float w = weights[i];
            sumW += w;
            sumX += w * xi;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; i++) {
                l[lo + i] = 0;
            }
            minOut[mi] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestMad = 0;
        for (int i = 0; i < n; i++) {
            int q = clamp(nearestInt(iscale * (x[xo + i] - min)), 0, nmax);
            l[lo + i] = (byte) q;
            float diff = scale * q + min - x[xo + i];
            diff = useMad ? Math.abs(diff) : diff * diff;
            bestMad += weights[i] * diff;
        }
        if (nstep < 1) {
            minOut[mi] = -min;
            return scale;
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0;
            float sumL2 = 0;
            float sumXl = 0;
            for (int i = 0; i < n; i++) {
                int q = clamp(nearestInt(iscale * (x[xo + i] - min)), 0, nmax);
                aux[i] = (byte) q;
                float w = weights[i];
                sumL += w * q;
                sumL2 += w * q * q;
                sumXl += w * q * x[xo + i];
            }
            float d = sumW * sumL2 - sumL * sumL;
            if (d > 0) {
                float thisScale = (sumW * sumXl - sumX * sumL) / d;
                float thisMin = (sumL2 * sumX - sumL * sumXl) / d;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }
                float mad = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * aux[i] + thisMin - x[xo + i];
                    diff = useMad ? Math.abs(diff) : diff * diff;
                    mad += weights[i] * diff;
                }
                if (mad < bestMad) {
                    System.arraycopy(aux, 0, l, lo, n);
                    bestMad = mad;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        minOut[mi] = -min;
        return scale;
    }

    static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
