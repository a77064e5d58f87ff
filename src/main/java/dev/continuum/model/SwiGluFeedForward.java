package dev.continuum.model;

import dev.continuum.tensor.MatMul;

/** The dense SwiGLU feed-forward: {@code down(silu(gate(x)) * up(x))}, every row through the same matrices. */
final class SwiGluFeedForward implements FeedForward {
    private final int dim;
    private final int ffnDim;
    private final MatMul matmul;
    private int capacity;
    private float[] hb;
    private float[] hb2;

    SwiGluFeedForward(LlamaConfig config, LlamaWeights weights, MatMul matmul) {
        for (LayerWeights w : weights.layers()) {
            if (w.gate() == null || w.up() == null || w.down() == null) {
                throw new IllegalArgumentException("a dense feed-forward needs each layer's gate, up and down");
            }
        }
        this.dim = config.dim();
        this.ffnDim = config.ffnDim();
        this.matmul = matmul;
    }

    @Override
    public void addTo(LayerWeights w, float[] normed, int n, float[] x) {
        ensureCapacity(n);
        matmul.multiply(normed, n, w.gate(), hb, w.up(), hb2, null, null);
        ExpKernel.siluTimes(hb, hb2, n * ffnDim);
        matmul.multiply(w.down(), hb, n, normed);
        for (int i = 0; i < n * dim; i++) {
            x[i] += normed[i];
        }
    }

    private void ensureCapacity(int n) {
        if (n <= capacity) {
            return;
        }
        int c = Math.max(n, capacity * 2);
        hb = new float[c * ffnDim];
        hb2 = new float[c * ffnDim];
        capacity = c;
    }
}
