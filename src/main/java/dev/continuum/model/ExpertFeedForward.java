package dev.continuum.model;

import dev.continuum.tensor.MatMul;
import dev.continuum.tensor.WeightTensor;

/**
 * Mixtral's mixture-of-experts feed-forward over a batch: each token is routed to {@code k} of the layer's experts
 * ({@link ExpertRouting}), each expert a SwiGLU of its own, their outputs summed with the routing weights.
 *
 * <p>Tokens are grouped per expert: for each expert, the rows routed to it are gathered into one block, its gate,
 * up and down run as one multi-row product (so its weights cross the memory bus once per step however many tokens
 * chose it), and each output row is scaled by its token's weight into the token's slot for that expert. Then each
 * token's slots are added in routing order, {@code ((slot0 + slot1) + ...)}, and the sum onto the residual, as
 * llama.cpp does.
 *
 * <p>Batch invariance: {@link MatMul} computes each row in a fixed order whatever the other rows of the call, the
 * routing and the final sum are per token, so a token's result is the same bits alone or in any batch, grouped or
 * not. {@link Schedule#PER_TOKEN} runs every (token, expert) pair as its own one-row product instead, in token order:
 * the same bits, each expert's weights read once per token routed to it; a diagnostic, to measure what the grouping saves
 * ({@code -Dcontinuum.moe.schedule=per-token}).
 */
final class ExpertFeedForward implements FeedForward {
    /** How the routed rows meet the experts' weights. */
    enum Schedule {
        /** One product per expert over all the rows routed to it (the default). */
        GROUPED,
        /**
         * One product per routed row, in token order (each token's experts in turn): each expert's weights read once
         * per token routed to it, as a batch computed token by token would. For measurements only.
         */
        PER_TOKEN;

        static final String PROPERTY = "continuum.moe.schedule";

        static Schedule fromSystemProperty() {
            String s = System.getProperty(PROPERTY, "grouped");
            return switch (s) {
                case "grouped" -> GROUPED;
                case "per-token" -> PER_TOKEN;
                default -> throw new IllegalArgumentException(PROPERTY + " is '" + s
                        + "': it must be grouped or per-token");
            };
        }
    }

    private final int dim;
    private final int ffnDim;
    private final int experts;
    private final int used;
    private final MatMul matmul;
    private final Schedule schedule;

    private final int[] order;
    /** Per expert: where its routed entries start in {@link #routed}; {@code starts[experts]} is the total. */
    private final int[] starts;
    private final int[] cursor;
    private final int[] oneEntry = new int[1];

    private int capacity;
    /** The router's logits, then probabilities: {@code experts} per token. */
    private float[] probs;
    /** Entry {@code t * used + r}: token {@code t}'s {@code r}-th expert and its weight. */
    private int[] chosen;
    private float[] weights;
    /** The entries grouped by expert, tokens ascending within each. */
    private int[] routed;
    private float[] gathered;
    private float[] gate;
    private float[] up;
    private float[] down;
    /** Each entry's weighted expert output, {@code dim} floats at {@code entry * dim}. */
    private float[] slots;

    ExpertFeedForward(LlamaConfig config, LlamaWeights weights, MatMul matmul, Schedule schedule) {
        for (LayerWeights w : weights.layers()) {
            if (w.experts() == null || w.experts().count() != config.expertCount()) {
                throw new IllegalArgumentException("a mixture of " + config.expertCount()
                        + " experts needs that many experts in every layer");
            }
        }
        this.dim = config.dim();
        this.ffnDim = config.ffnDim();
        this.experts = config.expertCount();
        this.used = config.expertsUsed();
        this.matmul = matmul;
        this.schedule = schedule;
        this.order = new int[experts];
        this.starts = new int[experts + 1];
        this.cursor = new int[experts];
    }

    @Override
    public void addTo(LayerWeights w, float[] normed, int n, float[] x) {
        ensureCapacity(n);
        Experts ex = w.experts();
        matmul.multiply(ex.router(), normed, n, probs);
        for (int t = 0; t < n; t++) {
            ExpertRouting.route(probs, t * experts, experts, used, order, chosen, weights, t * used);
        }
        if (schedule == Schedule.GROUPED) {
            group(n);
            for (int e = 0; e < experts; e++) {
                int from = starts[e];
                int rows = starts[e + 1] - from;
                if (rows > 0) {
                    expert(ex, e, normed, routed, from, rows);
                }
            }
        } else {
            // Token order, each token's experts in turn, one row each: what the batch costs without grouping.
            for (int entry = 0; entry < n * used; entry++) {
                oneEntry[0] = entry;
                expert(ex, chosen[entry], normed, oneEntry, 0, 1);
            }
        }
        for (int t = 0; t < n; t++) {
            int base = t * used * dim;
            for (int d = 0; d < dim; d++) {
                float s = slots[base + d];
                for (int r = 1; r < used; r++) {
                    s += slots[base + r * dim + d];
                }
                x[t * dim + d] += s;
            }
        }
    }

    /** A counting sort of the entries by expert, so each expert's rows are contiguous in {@link #routed}. */
    private void group(int n) {
        java.util.Arrays.fill(cursor, 0);
        int entries = n * used;
        for (int i = 0; i < entries; i++) {
            cursor[chosen[i]]++;
        }
        starts[0] = 0;
        for (int e = 0; e < experts; e++) {
            starts[e + 1] = starts[e] + cursor[e];
            cursor[e] = starts[e];
        }
        for (int i = 0; i < entries; i++) {
            routed[cursor[chosen[i]]++] = i;
        }
    }

    /** Expert {@code e} over the entries {@code list[from, from + rows)}: gather, SwiGLU, weighted scatter. */
    private void expert(Experts ex, int e, float[] normed, int[] list, int from, int rows) {
        for (int j = 0; j < rows; j++) {
            int token = list[from + j] / used;
            System.arraycopy(normed, token * dim, gathered, j * dim, dim);
        }
        WeightTensor g = ex.gate()[e];
        matmul.multiply(gathered, rows, g, gate, ex.up()[e], up, null, null);
        ExpKernel.siluTimes(gate, up, rows * ffnDim);
        matmul.multiply(ex.down()[e], gate, rows, down);
        for (int j = 0; j < rows; j++) {
            int entry = list[from + j];
            float weight = weights[entry];
            for (int d = 0; d < dim; d++) {
                slots[entry * dim + d] = down[j * dim + d] * weight;
            }
        }
    }

    private void ensureCapacity(int n) {
        if (n <= capacity) {
            return;
        }
        int c = Math.max(n, capacity * 2);
        probs = new float[c * experts];
        chosen = new int[c * used];
        weights = new float[c * used];
        routed = new int[c * used];
        // A token is routed to an expert at most once, so an expert's rows are at most the batch's.
        gathered = new float[c * dim];
        gate = new float[c * ffnDim];
        up = new float[c * ffnDim];
        down = new float[c * dim];
        slots = new float[c * used * dim];
        capacity = c;
    }
}
