package dev.continuum.sampling;

import dev.continuum.model.ExpKernel;

/**
 * Log-probabilities from a logits row: the chosen token's and the top alternatives', without allocation. Used by the
 * engine for {@code logprobs}, and by the {@code perplexity} command and KL statistics, which score every row of a
 * window with the same arithmetic. Here, beside the sampler, so that the engine reaches the vector exp kernel
 * without depending on the model package (PackageRulesTest).
 */
public final class Logprobs {
    private Logprobs() {
    }

    /**
     * log(sum(exp(logits))) over the row, computed stably: the row's largest logit m, then m + log(sum e^(l - m)),
     * the exponentials vectorized ({@link ExpKernel#sumExpShifted}: float exponentials about 2 ulp from exact,
     * summed in double). With a 32 000-token vocabulary the scalar {@code Math.exp} loop this replaced took
     * 163-168 us per token on the engine thread, this 22-23 us (PERFORMANCE.md, "The HTTP path at 16 streams").
     */
    public static float logSumExp(float[] logits, int o, int n) {
        float max = ExpKernel.max(logits, o, n);
        if (max == Float.NEGATIVE_INFINITY || Float.isNaN(max)) {
            return max; // every logit -inf (nothing possible), or a NaN: no finite normaliser
        }
        return (float) (max + Math.log(ExpKernel.sumExpShifted(logits, o, n, max)));
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
