package dev.continuum.tensor;

/**
 * What {@link MatMul} may call for one weight tensor besides the tiled path every format has
 * ({@link WeightTensor#decodeSetTile} and {@link TileKernel}), as one table, the way ggml describes each type once
 * in its type traits ({@code .vec_dot}, {@code .vec_dot_type}). Each format declares its table in its tensor
 * class; a tensor whose data rules the fused kernels out (a block scale the fast conversion cannot take, an
 * infinite F16 weight) carries the table {@linkplain #withoutFusedKernels without them}. A new format is a new
 * class with its table; neither {@link WeightTensor} nor {@link MatMul} grows.
 *
 * <p>Every kernel produces, for each row and token, the very bits of {@link WeightTensor#dot}. The kernels are
 * bound to their tensor and take only scalars and arrays, so no vector is boxed at the call.
 *
 * @param activations      what the format's kernels multiply: the floats themselves, or 8-bit tiles
 *                         ({@link QuantizedActivations}), which {@link MatMul} then computes once per call for all
 *                         rows
 * @param single           one token times one set of rows, or null
 * @param pair             two tokens times one set, or null; needs {@code single} for a batch's odd token
 * @param six              six tokens times one set, or null; needs {@code pair} for the tokens six leave over
 * @param fusedTokensBelow batches of two tokens up to this bound (exclusive) take the fused kernels, larger ones the
 *                         tiled path: above 2 with a pair kernel (above 6 with a six-token kernel), 0 without
 * @param shortTiles       a set's tile as 16-bit integers for {@link ShortTileKernel}, or null; only for
 *                         quantized activations, whose 16-bit copies that kernel multiplies
 * @param allTokens        every token of the call times one set in one call, or null: a native kernel
 *                         ({@link NativeCpuKernels}), which groups the tokens itself; when present it serves every
 *                         token count, and the other kernels serve only rows it cannot (none, for a whole set)
 * @param rowTokens        every token of the call times one row-major row, or null: for formats that stay
 *                         row-major ({@link BlockQuantTensor}), which then decode each row once per group of tokens,
 *                         and for the rows outside F32's sets, whose tokens then run as independent FMA chains;
 *                         without it, {@link MatMul} calls {@link WeightTensor#dotRow} per row and token
 */
record FormatKernels(Activations activations, SingleTokenKernel single, TokenGroupKernel pair,
                     TokenGroupKernel six, int fusedTokensBelow, ShortTileDecoder shortTiles, SetKernel allTokens,
                     RowKernel rowTokens) {

    /** The bound of formats whose fused kernels serve decode batches and leave prompt chunks to the tiles. */
    static final int DECODE_BATCHES = 32;
    /** The bound of a format whose fused kernels beat the tiles at any token count. */
    static final int ANY_TOKEN_COUNT = Integer.MAX_VALUE;
    /** Float activations and the tiled path only: a tensor whose data rules out its fused kernels. */
    static final FormatKernels FLOAT_TILES = new FormatKernels(Activations.FLOAT, null, null, null, 0, null);

    /** A table of Java kernels only. */
    FormatKernels(Activations activations, SingleTokenKernel single, TokenGroupKernel pair, TokenGroupKernel six,
                  int fusedTokensBelow, ShortTileDecoder shortTiles) {
        this(activations, single, pair, six, fusedTokensBelow, shortTiles, null, null);
    }

    /** A table with a native set kernel. */
    FormatKernels(Activations activations, SingleTokenKernel single, TokenGroupKernel pair, TokenGroupKernel six,
                  int fusedTokensBelow, ShortTileDecoder shortTiles, SetKernel allTokens) {
        this(activations, single, pair, six, fusedTokensBelow, shortTiles, allTokens, null);
    }

    /** A row-major format's table: quantized activations, one row kernel for every token count, no set kernels. */
    static FormatKernels rowMajor(RowKernel rowTokens) {
        return new FormatKernels(Activations.QUANTIZED, null, null, null, 0, null, null, rowTokens);
    }

    /** Float activations, the tiled path for whole sets and a row kernel for the rows outside them. */
    static FormatKernels floatTiles(RowKernel rowTokens) {
        return new FormatKernels(Activations.FLOAT, null, null, null, 0, null, null, rowTokens);
    }

    /** The form of the activations a format's kernels multiply, as ggml's {@code vec_dot_type}. */
    enum Activations {
        FLOAT,
        QUANTIZED
    }

    /**
     * One token times set {@code set}: {@code out[outOffset + r]} for the set's rows, from token {@code token}'s
     * activations ({@code x[token * cols ..]}, or {@code qa}'s token {@code token} for quantized activations);
     * {@code scratch} holds {@link Interleaving#SET_ROWS} floats of this thread's.
     */
    @FunctionalInterface
    interface SingleTokenKernel {
        void multiply(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                      float[] scratch);
    }

    /**
     * Tokens {@code token}, {@code token + 1} .. (as many as the kernel's slot says) times set {@code set}, as
     * {@link SingleTokenKernel}; token {@code token + i}'s output for the set's first row goes to
     * {@code out[outOffset + i * outStride]}.
     */
    @FunctionalInterface
    interface TokenGroupKernel {
        void multiply(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                      int outStride, float[] scratch);
    }

    /**
     * Tokens {@code 0 .. tokens - 1} times set {@code set}, from the call's activations copied off the heap
     * ({@code na}: quantized or float, as the table's activations say), through {@code scratch} (this thread's, at least {@code tokens * SET_ROWS} floats); token
     * {@code t}'s output for the set's first row goes to {@code out[outOffset + t * outStride]}.
     */
    @FunctionalInterface
    interface SetKernel {
        void multiply(int set, int tokens, NativeActivations na, java.lang.foreign.MemorySegment scratch, float[] out,
                      int outOffset, int outStride);
    }

    /**
     * Tokens {@code 0 .. tokens - 1} times row {@code row}, from the call's activations in the table's form (the
     * floats {@code x[t * cols ..]}, or {@code qa}'s token {@code t}): token {@code t}'s output goes to
     * {@code out[outOffset + t * outStride]}; {@code scratch} is this thread's.
     */
    @FunctionalInterface
    interface RowKernel {
        void multiply(int row, float[] x, QuantizedActivations qa, int tokens, float[] out, int outOffset,
                      int outStride, RowScratch scratch);
    }

    /** Tile {@code tile} of set {@code set} as 16-bit integers, {@code w[k * SET_ROWS + r]}, and its block scales. */
    @FunctionalInterface
    interface ShortTileDecoder {
        void decode(int set, int tile, short[] w, float[] scales);
    }

    FormatKernels {
        if (activations == null) {
            throw new IllegalArgumentException("a format must say what activations its kernels multiply");
        }
        if (pair != null && single == null) {
            throw new IllegalArgumentException("a token-pair kernel needs a single-token kernel for odd tokens");
        }
        if (six != null && pair == null) {
            throw new IllegalArgumentException("a six-token kernel needs a token-pair kernel for the tokens left");
        }
        if (pair == null ? fusedTokensBelow != 0 : fusedTokensBelow <= (six != null ? 6 : 2)) {
            throw new IllegalArgumentException("fused-kernel bound " + fusedTokensBelow + " does not fit the kernels:"
                    + " above 2 with a pair kernel, above 6 with a six-token kernel, 0 without a pair kernel");
        }
        if (shortTiles != null && activations != Activations.QUANTIZED) {
            throw new IllegalArgumentException("16-bit tiles multiply quantized activations");
        }
    }

    /** Whether a batch of {@code tokens} tokens takes the fused kernels rather than the tiled path. */
    boolean fuses(int tokens) {
        return allTokens != null || (tokens == 1 ? single != null : tokens < fusedTokensBelow);
    }

    /** This table without its fused kernels, for a tensor whose data they cannot convert. */
    FormatKernels withoutFusedKernels() {
        return new FormatKernels(activations, null, null, null, 0, shortTiles, null, rowTokens);
    }
}
