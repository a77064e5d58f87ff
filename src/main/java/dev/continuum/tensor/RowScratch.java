package dev.continuum.tensor;

/**
 * One thread's working memory for a row kernel ({@link FormatKernels.RowKernel}): a block decoded to its integer
 * form ({@link BlockFormat#decode}) and the running outputs of a group of tokens. Allocated once per
 * {@link MatMul} thread (and once per tensor for {@link WeightTensor#dequantizeRow}), never per call.
 */
final class RowScratch {
    /** Tokens one decode of a row serves: enough to spread the decode, few enough that their activations stay in L1/L2. */
    static final int TOKENS = 8;

    /**
     * Spare bytes after each array's used part, so no cache line holds what two threads write (MatMul.PAD has
     * the story): each thread's scratch is allocated next to the others'.
     */
    private static final int PAD_BYTES = 64;

    final byte[] levels = new byte[BlockFormat.MAX_BLOCK + PAD_BYTES];
    final int[] scales = new int[2 * BlockFormat.MAX_HALVES + PAD_BYTES / 4];
    final float[] factors = new float[2 + PAD_BYTES / 4];
    final float[] totals = new float[TOKENS + PAD_BYTES / 4];
}
