package dev.continuum.model;

/**
 * Mixtral's router for one token, as llama.cpp computes it ({@code llm_build_moe_ffn} with softmax gating and
 * normalised weights): the softmax of the router's logits over all experts; the {@code k} most probable experts
 * in the order ggml's descending argsort leaves them; their probabilities divided by the sum of those {@code k}.
 *
 * <p>The order matters twice: it decides which expert wins a tie at the k-th place, and it is the order in which
 * the experts' outputs are added up. ggml's CPU argsort is an exchange sort: for each position {@code j} in turn it
 * swaps in every later index whose value is strictly larger than the one now at {@code j}. That is not stable:
 * probabilities {@code [0, 3, 3, 5]} come out as {@code 3, 2, 1, 0}, the later of the tied pair first. The first
 * {@code k} positions depend only on the first {@code k} passes, so only those are run.
 */
final class ExpertRouting {
    private ExpertRouting() {
    }

    /**
     * Routes one token.
     *
     * @param logits   the router's outputs: {@code logits[lo .. lo + experts)}; overwritten by the probabilities
     * @param order    scratch of at least {@code experts} ints
     * @param chosen   receives the {@code k} experts at {@code chosen[co .. co + k)}, most probable first
     * @param weights  receives their normalised weights at {@code weights[co .. co + k)}
     */
    static void route(float[] logits, int lo, int experts, int k, int[] order, int[] chosen, float[] weights,
                      int co) {
        softmax(logits, lo, experts);
        for (int e = 0; e < experts; e++) {
            order[e] = e;
        }
        for (int j = 0; j < k; j++) {
            for (int i = j + 1; i < experts; i++) {
                if (logits[lo + order[j]] < logits[lo + order[i]]) {
                    int t = order[j];
                    order[j] = order[i];
                    order[i] = t;
                }
            }
        }
        // ggml sums a row in double and stores the sum as a float; each weight is then divided by it.
        double sum = 0;
        for (int r = 0; r < k; r++) {
            chosen[co + r] = order[r];
            weights[co + r] = logits[lo + order[r]];
            sum += weights[co + r];
        }
        float total = (float) sum;
        for (int r = 0; r < k; r++) {
            weights[co + r] = weights[co + r] / total;
        }
    }

    /**
     * ggml's softmax of a row: {@code e^(x - max)} as floats, their sum in double, then each scaled by the float
     * nearest {@code 1 / sum}.
     */
    static void softmax(float[] a, int o, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, a[o + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            a[o + i] = (float) Math.exp(a[o + i] - max);
            sum += a[o + i];
        }
        float scale = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) {
            a[o + i] *= scale;
        }
    }
}
