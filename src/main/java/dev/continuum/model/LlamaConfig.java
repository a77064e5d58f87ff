package dev.continuum.model;

/**
 * The hyper-parameters of a Llama-family transformer, all read from the model file.
 *
 * @param ropeDims    number of leading elements of each head that are rotated (usually headDim)
 * @param ropeScaling how positions past the trained context are stretched ({@link RopeScaling#NONE}: not at all)
 */
public record LlamaConfig(
        String architecture,
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
        RopeScaling ropeScaling) {

    /** The longest context a model may claim: 16M positions, far past any real model, and safe for int sizes. */
    public static final int MAX_CONTEXT_LENGTH = 1 << 24;
    /**
     * The most elements one sequence's per-layer buffers may need (attention scores of every query head, keys of
     * every KV dimension, over the whole context), so that none of their sizes can overflow an int.
     */
    public static final long MAX_SEQUENCE_ELEMENTS = 1L << 30;

    public LlamaConfig {
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
    }

    /** A config without rope scaling. */
    public LlamaConfig(String architecture, int dim, int layers, int heads, int kvHeads, int headDim, int ffnDim,
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
        long ffn = 3L * dim * ffnDim;
        return (long) vocabSize * dim * 2 + layers * (attn + ffn);
    }
}
