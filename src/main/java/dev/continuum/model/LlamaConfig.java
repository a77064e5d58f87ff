package dev.continuum.model;

/**
 * The hyper-parameters of a transformer, all read from the model file: those every architecture has, then those
 * only some use (each architecture's forward pass reads its own and the loader refuses a file whose values its
 * architecture does not compute).
 *
 * @param architecture      which forward pass computes the model
 * @param ropeDims          number of leading elements of each head that are rotated (usually headDim)
 * @param ropeScaling       how positions past the trained context are stretched ({@link RopeScaling#NONE}: not at
 *                          all)
 * @param slidingWindow     the layers that attend only to recent positions ({@link SlidingWindow#NONE}: none)
 * @param attnLogitSoftcap  attention scores {@code s} become {@code c * tanh(s / c)} before the softmax; 0: not
 * @param finalLogitSoftcap output logits capped the same way; 0: not
 * @param expertCount       feed-forward experts per layer (mixture of experts); 0 for a dense feed-forward
 * @param expertsUsed       experts each token is routed to (top-k of the router's); 0 when dense
 */
public record LlamaConfig(
        Architecture architecture,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int ffnDim,
        int vocabSize,
        int contextLength,
        float rmsEps,
        float ropeTheta,
        int ropeDims,
        RopeType ropeType,
        RopeScaling ropeScaling,
        SlidingWindow slidingWindow,
        float attnLogitSoftcap,
        float finalLogitSoftcap,
        int expertCount,
        int expertsUsed) {

    /** The longest context a model may claim: 16M positions, far past any real model, and safe for int sizes. */
    public static final int MAX_CONTEXT_LENGTH = 1 << 24;
    /**
     * The most elements one sequence's per-layer buffers may need (attention scores of every query head, keys of
     * every KV dimension, over the whole context), so that none of their sizes can overflow an int.
     */
    public static final long MAX_SEQUENCE_ELEMENTS = 1L << 30;

    public LlamaConfig {
        require(architecture != null, "architecture missing");
        require(dim > 0 && layers > 0 && heads > 0 && kvHeads > 0 && headDim > 0 && ffnDim > 0 && vocabSize > 0
                && contextLength > 0, "dimensions must be positive");
        require(contextLength <= MAX_CONTEXT_LENGTH, "context length " + contextLength + " exceeds "
                + MAX_CONTEXT_LENGTH);
        require((long) heads * headDim <= Integer.MAX_VALUE && (long) kvHeads * headDim <= Integer.MAX_VALUE
               , "head count x head dimension overflows");
        require((long) heads * contextLength <= MAX_SEQUENCE_ELEMENTS
                        && (long) kvHeads * headDim * contextLength <= MAX_SEQUENCE_ELEMENTS,
                "context length " + contextLength + " x heads exceeds " + MAX_SEQUENCE_ELEMENTS + " per sequence");
        require(heads % kvHeads == 0, "head count " + heads + " is not a multiple of KV head count " + kvHeads);
        require(ropeDims > 0 && ropeDims <= headDim && ropeDims % 2 == 0, "rope dimension " + ropeDims + " is invalid");
        require(rmsEps > 0 && ropeTheta > 0, "rms epsilon and rope base must be positive");
        require(ropeScaling != null, "rope scaling missing");
        float[] factors = ropeScaling.freqFactors();
        require(factors == null || factors.length == ropeDims / 2, "rope_freqs has " + (factors == null ? 0
                : factors.length) + " factors for " + ropeDims / 2 + " rotated pairs");
        require(slidingWindow != null, "sliding window missing");
        require(attnLogitSoftcap >= 0 && Float.isFinite(attnLogitSoftcap) && finalLogitSoftcap >= 0
                && Float.isFinite(finalLogitSoftcap), "soft-caps must be finite and non-negative");
        require(expertCount >= 0 && expertsUsed >= 0 && expertsUsed <= expertCount
                && (expertCount == 0) == (expertsUsed == 0), "experts used " + expertsUsed + " of " + expertCount
                + " is invalid");
    }

    /** A config of a dense model without sliding windows or soft-caps. */
    public LlamaConfig(Architecture architecture, int dim, int layers, int heads, int kvHeads, int headDim, int ffnDim,
                       int vocabSize, int contextLength, float rmsEps, float ropeTheta, int ropeDims,
                       RopeType ropeType, RopeScaling ropeScaling) {
        this(architecture, dim, layers, heads, kvHeads, headDim, ffnDim, vocabSize, contextLength, rmsEps, ropeTheta,
                ropeDims, ropeType, ropeScaling, SlidingWindow.NONE, 0f, 0f, 0, 0);
    }

    /** A config without rope scaling. */
    public LlamaConfig(Architecture architecture, int dim, int layers, int heads, int kvHeads, int headDim, int ffnDim,
                       int vocabSize, int contextLength, float rmsEps, float ropeTheta, int ropeDims,
                       RopeType ropeType) {
        this(architecture, dim, layers, heads, kvHeads, headDim, ffnDim, vocabSize, contextLength, rmsEps, ropeTheta,
                ropeDims, ropeType, RopeScaling.NONE);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("invalid model config: " + message);
        }
    }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Parameter count of the transformer's matrices and embeddings (norms excluded), for logs. */
    public long parameterCount() {
        long attn = (long) dim * qDim() * 2 + (long) dim * kvDim() * 2;
        long ffn = 3L * dim * ffnDim * Math.max(1, expertCount) + (long) expertCount * dim;
        return (long) vocabSize * dim * 2 + layers * (attn + ffn);
    }
}
