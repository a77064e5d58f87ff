package dev.continuum.cuda;

/**
 * The kernels that multiply one weight format, like a row of ggml's type traits: the decode GEMVs for 1, 2, 4 and
 * 8 tokens (weights read once for all of them) and the tensor-core GEMM for prefill chunks.
 *
 * @param gemv the GEMV instances for 1, 2, 4 and 8 tokens, in that order
 * @param gemm the GEMM
 */
record MatrixKernels(KernelCall[] gemv, KernelCall gemm) {
    MatrixKernels {
        if (gemv.length != 4) {
            throw new IllegalArgumentException("GEMVs for 1, 2, 4 and 8 tokens, not " + gemv.length);
        }
    }

    /** The GEMV for {@code tokens} tokens (1 to 8): the narrowest instance that holds them; it guards the rest. */
    KernelCall gemv(int tokens) {
        if (tokens < 1 || tokens > 8) {
            throw new IllegalArgumentException(tokens + " tokens for a GEMV of at most 8");
        }
        return gemv[tokens <= 1 ? 0 : tokens <= 2 ? 1 : tokens <= 4 ? 2 : 3];
    }
}
