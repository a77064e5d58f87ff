package dev.continuum.model;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sliding-window attention and attention-logit soft-capping against a float64 computation written out here: the
 * token at position {@code p} with window {@code w} attends to positions {@code max(0, p - w + 1) .. p}, scores
 * capped as {@code c * tanh(s / c)}; a window as long as the sequence changes no bit of full attention.
 */
class AttentionWindowTest {
    private static final int BLOCK = 16;
    private static final int KV_HEADS = 2;
    private static final int GROUP = 2;
    private static final int HEAD_DIM = 24;
    private static final int POSITIONS = 70;
    /** The blocks out of order, as the block manager hands them out. */
    private static final int[] TABLE = {3, 0, 4, 1, 2};

    private final Float16KvStore kv = new Float16KvStore(1, KV_HEADS, HEAD_DIM, TABLE.length, BLOCK);
    private final float[][] keys = new float[POSITIONS][];
    private final float[][] values = new float[POSITIONS][];
    private final float[] q = new float[KV_HEADS * GROUP * HEAD_DIM];

    AttentionWindowTest() {
        SplittableRandom rnd = new SplittableRandom(5);
        for (int p = 0; p < POSITIONS; p++) {
            keys[p] = gaussian(rnd, KV_HEADS * HEAD_DIM, 1.5);
            values[p] = gaussian(rnd, KV_HEADS * HEAD_DIM, 1.0);
            kv.write(0, TABLE[p / BLOCK], p % BLOCK, keys[p], 0, values[p], 0);
            // What the cache holds: the float16 rounding is the cache's, not the attention's, error.
            for (int i = 0; i < KV_HEADS * HEAD_DIM; i++) {
                keys[p][i] = Float.float16ToFloat(Float.floatToFloat16(keys[p][i]));
                values[p][i] = Float.float16ToFloat(Float.floatToFloat16(values[p][i]));
            }
        }
        float[] g = gaussian(rnd, q.length, 1.5);
        System.arraycopy(g, 0, q, 0, q.length);
    }

    @Test
    void aWindowAttendsToItsLastPositionsOnly() {
        for (int pos : new int[] {0, 15, 16, 37, 69}) {
            for (int window : new int[] {1, 5, 16, 17, 33, 64, 70}) {
                for (float cap : new float[] {0f, 2.5f}) {
                    float[] got = run(pos, window, cap);
                    double[] want = reference(pos, window, cap);
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], got[i], 2e-5, "pos " + pos + " window " + window + " cap " + cap
                                + " element " + i);
                    }
                }
            }
        }
    }

    @Test
    void aWindowCoveringTheSequenceIsFullAttentionBitForBit() {
        for (int pos : new int[] {0, 20, 69}) {
            float[] full = run(pos, Integer.MAX_VALUE, 0f);
            assertArrayEquals(full, run(pos, pos + 1, 0f));
            assertArrayEquals(full, run(pos, POSITIONS + 100, 0f));
        }
    }

    @Test
    void theWindowAndTheCapChangeTheResult() {
        double moved = 0;
        double capped = 0;
        float[] full = run(69, Integer.MAX_VALUE, 0f);
        float[] windowed = run(69, 10, 0f);
        float[] cap = run(69, Integer.MAX_VALUE, 1f);
        for (int i = 0; i < full.length; i++) {
            moved = Math.max(moved, Math.abs(full[i] - windowed[i]));
            capped = Math.max(capped, Math.abs(full[i] - cap[i]));
        }
        assertTrue(moved > 0.05 && capped > 0.05, "window moved " + moved + ", cap " + capped);
    }

    private float[] run(int pos, int window, float cap) {
        float[] out = new float[q.length];
        Attention.Scratch scratch = new Attention.Scratch(BLOCK, HEAD_DIM, POSITIONS, KV_HEADS * GROUP);
        float scale = (float) (1 / Math.sqrt(HEAD_DIM));
        Attention.heads(q, 0, GROUP, kv, 0, TABLE, pos, 0, KV_HEADS, scale, window, cap, out, 0, scratch);
        return out;
    }

    private double[] reference(int pos, int window, float cap) {
        double[] out = new double[q.length];
        int from = Math.max(0, pos - window + 1);
        for (int h = 0; h < KV_HEADS * GROUP; h++) {
            int g = h / GROUP;
            double[] s = new double[pos + 1];
            double max = Double.NEGATIVE_INFINITY;
            for (int t = from; t <= pos; t++) {
                double dot = 0;
                for (int d = 0; d < HEAD_DIM; d++) {
                    dot += (double) q[h * HEAD_DIM + d] * keys[t][g * HEAD_DIM + d];
                }
                s[t] = dot / Math.sqrt(HEAD_DIM);
                if (cap != 0) {
                    s[t] = cap * Math.tanh(s[t] / cap);
                }
                max = Math.max(max, s[t]);
            }
            double sum = 0;
            for (int t = from; t <= pos; t++) {
                s[t] = Math.exp(s[t] - max);
                sum += s[t];
            }
            for (int t = from; t <= pos; t++) {
                for (int d = 0; d < HEAD_DIM; d++) {
                    out[h * HEAD_DIM + d] += s[t] / sum * values[t][g * HEAD_DIM + d];
                }
            }
        }
        return out;
    }

    private static float[] gaussian(SplittableRandom rnd, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * std);
        }
        return a;
    }
}
