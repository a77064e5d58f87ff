package dev.continuum.model;

import dev.continuum.tensor.WeightTensor;

import java.util.function.UnaryOperator;

/**
 * A layer's mixture-of-experts feed-forward (Mixtral's): the router's matrix ({@code ffn_gate_inp}, one row per
 * expert) and each expert's SwiGLU matrices, sliced from the file's 3-D {@code ffn_gate_exps}, {@code ffn_up_exps}
 * and {@code ffn_down_exps} tensors (expert {@code e} is the {@code e}-th 2-D matrix of each).
 */
public record Experts(WeightTensor router, WeightTensor[] gate, WeightTensor[] up, WeightTensor[] down) {
    public Experts {
        if (router == null || gate.length != up.length || gate.length != down.length || gate.length == 0
                || router.rows() != gate.length) {
            throw new IllegalArgumentException("a mixture of experts needs a router row and three matrices per"
                    + " expert");
        }
    }

    /** The number of experts. */
    public int count() {
        return gate.length;
    }

    /** These experts with every matrix replaced by {@code f} of it. */
    public Experts map(UnaryOperator<WeightTensor> f) {
        WeightTensor[] g = new WeightTensor[gate.length];
        WeightTensor[] u = new WeightTensor[up.length];
        WeightTensor[] d = new WeightTensor[down.length];
        for (int e = 0; e < g.length; e++) {
            g[e] = f.apply(gate[e]);
            u[e] = f.apply(up[e]);
            d[e] = f.apply(down[e]);
        }
        return new Experts(f.apply(router), g, u, d);
    }
}
