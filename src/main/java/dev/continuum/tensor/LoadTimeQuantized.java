package dev.continuum.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A float matrix (F32, F16 or BF16 in the file) quantized when the model is loaded, into a format no file holds
 * ({@code --quantize}: {@link Int8Tensor}, {@link Int4Tensor}, {@link Nf4Tensor}). The tensors stay row-major
 * (no interleaving): {@link MatMul} reaches them row by row through {@link #dotRow}, which runs the format's
 * Vector API kernel or, with the vectors off, the scalar reference {@link #dot}.
 *
 * <p>The fixed order every format shares, whatever the vector width: sixteen running sums {@code acc[0..15]},
 * all from 0; for {@code j = 0 .. cols-1} in order, {@code acc[j % 16] = fma(w[j], x[j], acc[j % 16])}, where
 * {@code w[j]} is the format's decoded float weight (its class comment says how it is computed); then
 * {@code s = acc[0] + acc[1]}, {@code s = s + acc[2]} .. {@code s + acc[15]} left to right; the format may scale
 * {@code s} once at the end (int8's per-row scale). Sixteen sums are one 512-bit vector, two 256-bit or four
 * 128-bit ones, so every width computes the same bits lane for lane. Activations stay float: these are
 * weight-only formats, as in gpt-fast and bitsandbytes.
 */
public abstract sealed class LoadTimeQuantized extends WeightTensor permits Int8Tensor, Int4Tensor, Nf4Tensor {
    /** The running sums of the fixed order (see the class comment). */
    static final int SUMS = 16;
    /** Columns of one nibble-packed tile of the 4-bit formats: 16 bytes, column {@code i} low, {@code i + 16} high. */
    static final int NIBBLE_TILE = 32;

    private final GgmlType source;

    LoadTimeQuantized(String name, MemorySegment packed, int rows, int cols, GgmlType source) {
        super(name, packed, rows, cols, 0);
        this.source = source;
    }

    /** The format as {@code --quantize} names it: "int8", "int4:128", "nf4". */
    public abstract String format();

    /** What the matrix was before it was quantized, as the file stored it. */
    @Override
    public final GgmlType type() {
        return source;
    }

    /** The decoded float weight {@code w[row, col]} the dot multiplies (see the class comment). */
    @Override
    abstract float weight(int row, int col);

    /** The scalar reference: exactly the order of the class comment. */
    @Override
    final float dotRowMajor(int row, float[] x, int xOffset) {
        float[] acc = new float[SUMS];
        for (int j = 0; j < cols; j++) {
            acc[j % SUMS] = Math.fma(weight(row, j), x[xOffset + j], acc[j % SUMS]);
        }
        return finish(row, fold(acc));
    }

    /** The reference, checked; public for tests and tools. */
    @Override
    public final float dot(int row, float[] x, int xOffset) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(xOffset, cols, x.length);
        return dotRowMajor(row, x, xOffset);
    }

    static float fold(float[] acc) {
        float s = acc[0];
        for (int k = 1; k < SUMS; k++) {
            s += acc[k];
        }
        return s;
    }

    /** The format's last step on the folded sum: int8 multiplies by the row scale, the others return it. */
    float finish(int row, float s) {
        return s;
    }

    @Override
    final float dotRow(int row, float[] x, int xOffset, QuantizedActivations qa, int token) {
        return VectorSupport.ENABLED && VectorShapes.USABLE ? vectorDot(row, x, xOffset) : dotRowMajor(row, x, xOffset);
    }

    /** The Vector API kernel: the reference's bits, with no allocation. */
    abstract float vectorDot(int row, float[] x, int xOffset);

    @Override
    public final void dequantizeRow(int row, float[] out, int outOffset) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(outOffset, cols, out.length);
        for (int j = 0; j < cols; j++) {
            out[outOffset + j] = dequantized(row, j);
        }
    }

    /** The element as a float weight: {@link #weight} with any per-row scale applied. */
    float dequantized(int row, int col) {
        return weight(row, col);
    }

    /** Stays row-major: its kernels read rows, not interleaved sets. */
    @Override
    public final WeightTensor interleaved() {
        return this;
    }

    @Override
    public final void writeRowMajor(MemorySegment target) {
        throw new UnsupportedOperationException("tensor '" + name + "' is quantized to " + format()
                + " in memory, a format no GGUF file holds; export the model without --quantize");
    }

    @Override
    final FormatKernels kernels() {
        return FormatKernels.FLOAT_TILES;
    }

    @Override
    final int scaleBytes() {
        return 0;
    }

    @Override
    final int tileUnits() {
        return TILE;
    }

    @Override
    final int unitBytes() {
        return 1;
    }

    @Override
    final float scale(int row, int tile) {
        return 1f;
    }

    @Override
    final void decodeSetTile(int set, int tile, float[] w, float[] s) {
        throw new IllegalStateException("tensor '" + name + "' (" + format() + ") is never interleaved");
    }

    /** Sums the kernel's sum vectors' lanes in the reference's fold order. */
    static float foldLanes(jdk.incubator.vector.FloatVector a0, jdk.incubator.vector.FloatVector a1,
                           jdk.incubator.vector.FloatVector a2, jdk.incubator.vector.FloatVector a3) {
        int lanes = VectorShapes.LANES;
        float s = a0.lane(0);
        for (int k = 1; k < SUMS; k++) {
            int v = k / lanes;
            jdk.incubator.vector.FloatVector a = v == 0 ? a0 : v == 1 ? a1 : v == 2 ? a2 : a3;
            s += a.lane(k % lanes);
        }
        return s;
    }
}
