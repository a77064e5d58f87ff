package dev.continuum.engine;

/**
 * Log-probabilities from a logits row: the chosen token's and the top alternatives', without allocation. Public for
 * the {@code perplexity} command, which scores every row of a window with the same arithmetic.
 */
public final class Logprobs {
    private Logprobs() {
    }

    /** log(sum(exp(logits))) over the row, computed stably. */
    public static float logSumExp(float[] logits, int o, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, logits[o + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[o + i] - max);
        }
        return (float) (max + Math.log(sum));
    }

    /** Fills {@code ids/values} with the {@code ids.length} largest logits, largest first (lower id on ties). */
    public static void top(float[] logits, int o, int n, int[] ids, float[] values) {
        int k = ids.length;
        int filled = 0;
        for (int i = 0; i < n; i++) {
            float v = logits[o + i];
            if (filled == k && v <= values[k - 1]) {
                continue;
            }
            int j = filled < k ? filled++ : k - 1;
            while (j > 0 && values[j - 1] < v) {
                values[j] = values[j - 1];
                ids[j] = ids[j - 1];
                j--;
            }
            values[j] = v;
            ids[j] = i;
        }
    }
}
