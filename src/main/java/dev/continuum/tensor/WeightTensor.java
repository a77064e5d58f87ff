package dev.continuum.tensor;

import dev.continuum.format.ModelFormatException;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A read-only 2-D weight matrix of {@code rows x cols} elements in one ggml storage format, backed by a memory
 * segment (usually a slice of a memory-mapped model file). A linear layer's output {@code i} is
 * {@code dot(i, x)}.
 *
 * <p>Every format is cut into tiles of {@value #TILE} columns: a tile of one row is an optional block scale
 * ({@link #scaleBytes()}) followed by {@link #tileUnits()} storage units of {@link #unitBytes()} each, exactly as
 * ggml stores a block. Two layouts share that tile:
 * <ul>
 *   <li>row-major, as in the file: row after row, each row's tiles in order;</li>
 *   <li>interleaved (see {@link Interleaving}): the first {@link #interleavedRows()} rows are stored in sets of
 *   {@link Interleaving#SET_ROWS} rows, tile by tile, with the set's scales first and then unit {@code u} of every
 *   row side by side, so that one vector load reads the same column of a vector of rows. The matmul kernels read
 *   that layout; the remaining rows stay row-major.</li>
 * </ul>
 *
 * <p>Every output is computed in one fixed order, which {@link #dot} spells out in scalar code and every kernel
 * reproduces bit for bit: per tile, {@code p = fma(w[j], x[j], p)} for {@code j = 0..31} from {@code p = 0}, then
 * {@code total = fma(p, scale, total)} (quantized) or {@code total + p} (float formats). Because the order depends
 * only on the row, a token's outputs never depend on what else shares the batch or how rows are split across
 * threads. The block formats ({@link BlockQuantTensor}: Q4_1 .. Q8_K, IQ4_NL) have integer sub-block scales and
 * mins, so their fixed order is their own, spelled out there; they stay row-major ({@link #rowMajorOnly}).
 */
public abstract sealed class WeightTensor permits F32Tensor, F16Tensor, BF16Tensor, Q8_0Tensor, Q4_0Tensor,
        BlockQuantTensor, LoadTimeQuantized {
    /** Columns per tile: the quantization block size of Q8_0 and Q4_0. */
    public static final int TILE = 32;

    protected final String name;
    protected final MemorySegment data;
    protected final int rows;
    protected final int cols;
    /** Leading rows stored interleaved; a multiple of {@link Interleaving#SET_ROWS}, or 0. */
    protected final int interleavedRows;
    /** Whether every block scale of the interleaved rows is zero or a normal float16 (see {@link #hasOnlyNormalScales}). */
    private final boolean normalScales;
    /**
     * What {@link #interleaved} made of this tensor, once it has: the memory now holds that layout, so the
     * row-reading methods below forward to it (a loaded model's weights stay readable after a runner prepared them).
     */
    private volatile WeightTensor repacked;

    protected WeightTensor(String name, MemorySegment data, int rows, int cols, int interleavedRows) {
        this.name = name;
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.interleavedRows = interleavedRows;
        this.normalScales = interleavedRows > 0 && scanScales();
    }

    private boolean scanScales() {
        if (scaleBytes() == 0) {
            return true;
        }
        for (int r = 0; r < interleavedRows; r++) {
            for (int t = 0; t < tilesPerRow(); t++) {
                int exponent = data.get(Q8_0Tensor.SHORT_LE, scaleOffset(r, t)) & 0x7c00;
                boolean zero = (data.get(Q8_0Tensor.SHORT_LE, scaleOffset(r, t)) & 0x7fff) == 0;
                if (!zero && (exponent == 0 || exponent == 0x7c00)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Whether the vector kernels may convert this tensor's block scales with their fast integer rebias, which
     * covers zeros and normal float16 values. A tensor with a subnormal, infinite or NaN scale anywhere (vanishingly
     * rare in real models) decodes its scales one by one instead, on the tiled path.
     */
    final boolean hasOnlyNormalScales() {
        return normalScales;
    }

    /** Wraps {@code data} (row-major, as in a GGUF file) as a tensor of {@code type}; fails clearly on a type without a kernel. */
    public static WeightTensor of(String name, GgmlType type, MemorySegment data, long rows, long cols) {
        if (rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE) {
            throw new ModelFormatException("tensor '" + name + "' is too large: " + rows + " x " + cols);
        }
        if (data.byteSize() != type.bytesFor(rows * cols)) {
            throw new ModelFormatException("tensor '" + name + "' has " + data.byteSize() + " bytes, expected "
                    + type.bytesFor(rows * cols) + " for " + rows + " x " + cols + " " + type);
        }
        if (cols % type.blockSize != 0) {
            throw new ModelFormatException("tensor '" + name + "' has rows of " + cols + " elements, not a multiple of "
                    + type + "'s block size " + type.blockSize);
        }
        return create(type, name, data, (int) rows, (int) cols, 0);
    }

    static WeightTensor create(GgmlType type, String name, MemorySegment data, int rows, int cols, int interleavedRows) {
        return switch (type) {
            case F32 -> new F32Tensor(name, data, rows, cols, interleavedRows);
            case F16 -> new F16Tensor(name, data, rows, cols, interleavedRows);
            case BF16 -> new BF16Tensor(name, data, rows, cols, interleavedRows);
            case Q8_0 -> new Q8_0Tensor(name, data, rows, cols, interleavedRows);
            case Q4_0 -> new Q4_0Tensor(name, data, rows, cols, interleavedRows);
            default -> {
                BlockFormat format = BlockFormat.of(type);
                if (format == null) {
                    throw new ModelFormatException("tensor '" + name + "' has type " + type
                            + ", which Continuum does not support (supported: " + supportedTypes() + ")");
                }
                yield new BlockQuantTensor(format, name, data, rows, cols, interleavedRows);
            }
        };
    }

    /** The types {@link #of} reads, for messages: "F32, F16, ..." in {@link GgmlType}'s order. */
    public static String supportedTypes() {
        StringBuilder s = new StringBuilder();
        for (GgmlType t : GgmlType.values()) {
            if (t.supported) {
                s.append(s.isEmpty() ? "" : ", ").append(t);
            }
        }
        return s.toString();
    }

    /**
     * Whether this tensor keeps the file's row-major layout for good ({@link Interleaving} leaves it alone and
     * {@link MatMul} gives threads whole rows): the block formats whose tiles are not whole units.
     */
    boolean rowMajorOnly() {
        return false;
    }

    /** The tensor's name in the model file, for messages. */
    public final String name() {
        return name;
    }

    public final int rows() {
        return rows;
    }

    public final int cols() {
        return cols;
    }

    public final MemorySegment data() {
        return data;
    }

    /** Leading rows stored in the interleaved layout (0 for a tensor as read from the file). */
    public final int interleavedRows() {
        return interleavedRows;
    }

    public abstract GgmlType type();

    /** Bytes of a tile's block scale: 2 (an F16) for quantized formats, 0 for float formats. */
    abstract int scaleBytes();

    /** Storage units per row of a tile. */
    abstract int tileUnits();

    /** Bytes per storage unit. */
    abstract int unitBytes();

    final int rowTileBytes() {
        return scaleBytes() + tileUnits() * unitBytes();
    }

    final int tilesPerRow() {
        return (cols + TILE - 1) / TILE;
    }

    final long rowBytes() {
        return data.byteSize() / rows;
    }

    /**
     * Moves one group of rows between the row-major and the interleaved layout: from {@code src} (the group's
     * bytes, from 0) into {@code dst} at {@code base}. The default moves whole storage units (see
     * {@link Interleaving}); a format with a finer layout overrides it.
     */
    void permuteGroup(MemorySegment src, MemorySegment dst, long base, boolean toInterleaved) {
        Interleaving.permute(this, src, dst, base, toInterleaved);
    }

    /** Byte offset of the scale of {@code row}'s tile {@code tile}, in either layout. */
    final long scaleOffset(int row, int tile) {
        if (row < interleavedRows) {
            int g = Interleaving.SET_ROWS;
            return tileOffset(row / g, tile) + (long) (row % g) * scaleBytes();
        }
        return (long) row * rowBytes() + (long) tile * rowTileBytes();
    }

    /** Byte offset of storage unit {@code unit} of {@code row}'s tile {@code tile}, in either layout. */
    final long unitOffset(int row, int tile, int unit) {
        if (row < interleavedRows) {
            int g = Interleaving.SET_ROWS;
            return tileOffset(row / g, tile) + (long) g * scaleBytes() + ((long) unit * g + row % g) * unitBytes();
        }
        return (long) row * rowBytes() + (long) tile * rowTileBytes() + scaleBytes() + (long) unit * unitBytes();
    }

    /** Byte offset of set {@code set}'s tile {@code tile} in the interleaved layout. */
    final long tileOffset(int set, int tile) {
        int g = Interleaving.SET_ROWS;
        return (long) set * g * rowBytes() + (long) tile * g * rowTileBytes();
    }

    /** The stored value of element {@code (row, col)} before the block scale: what the kernels multiply by x. */
    abstract float weight(int row, int col);

    /** The block scale of {@code row}'s tile {@code tile}; 1 for float formats. */
    abstract float scale(int row, int tile);

    /**
     * {@code sum_j W[row, j] * x[xOffset + j]} in the tensor's fixed summation order (see the class comment):
     * exactly the bits {@link MatMul} produces for this row.
     */
    public float dot(int row, float[] x, int xOffset) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(xOffset, cols, x.length);
        return row >= interleavedRows ? dotRowMajor(row, x, xOffset) : dotAnyLayout(row, x, xOffset);
    }

    /**
     * The kernels {@link MatMul} may call for this tensor besides the tiled path, and the activations they
     * multiply: its format's table, less the fused kernels where this tensor's data rules them out.
     */
    abstract FormatKernels kernels();

    /**
     * {@link #dot} of a row-major row for {@link MatMul}, given the call's activations both as floats
     * ({@code x[xOffset ..]}) and, for formats whose {@linkplain #kernels kernels} multiply them quantized, as
     * {@code qa}'s token {@code token}.
     */
    float dotRow(int row, float[] x, int xOffset, QuantizedActivations qa, int token) {
        return dotRowMajor(row, x, xOffset);
    }

    /** {@link #dot} of a row-major row, by a format-specific scalar loop (used for rows no vector group covers). */
    abstract float dotRowMajor(int row, float[] x, int xOffset);

    /**
     * {@link #dot} for a format that multiplies activations quantized to 8 bits per tile (its
     * {@linkplain #kernels kernels} say {@link FormatKernels.Activations#QUANTIZED}), in either layout: {@code x}
     * quantized tile by tile exactly as {@link MatMul} quantizes it ({@link QuantizedActivations#quantizeTile}),
     * then per tile the exact integer sum {@code isum = sum_j weight(row, j) * xq[j]} and
     * {@code total = fma((float) isum, scale(row, t) * dx[t], total)} over the tiles in order. A reference, not a
     * hot path: it allocates.
     */
    final float quantizedDot(int row, float[] x, int xOffset) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(xOffset, cols, x.length);
        float[] slice = new float[TILE];
        float[] q = new float[TILE];
        float[] dx = new float[1];
        float total = 0f;
        for (int t = 0; t < cols / TILE; t++) {
            System.arraycopy(x, xOffset + t * TILE, slice, 0, TILE);
            QuantizedActivations.quantizeTile(slice, 0, q, null, dx, null, 0);
            int sum = 0;
            for (int j = 0; j < TILE; j++) {
                sum += (int) weight(row, t * TILE + j) * (int) q[j];
            }
            total = Math.fma((float) sum, scale(row, t) * dx[0], total);
        }
        return total;
    }

    private float dotAnyLayout(int row, float[] x, int xOffset) {
        boolean scaled = scaleBytes() > 0;
        float total = 0f;
        for (int t = 0; t < tilesPerRow(); t++) {
            float p = 0f;
            int end = Math.min(cols, (t + 1) * TILE);
            for (int j = t * TILE; j < end; j++) {
                p = Math.fma(weight(row, j), x[xOffset + j], p);
            }
            total = scaled ? Math.fma(p, scale(row, t), total) : total + p;
        }
        return total;
    }

    /** Writes row {@code row} as floats (scale applied) into {@code out[outOffset ..]}. */
    public void dequantizeRow(int row, float[] out, int outOffset) {
        WeightTensor current = repacked;
        if (current != null) {
            current.dequantizeRow(row, out, outOffset);
            return;
        }
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(outOffset, cols, out.length);
        for (int t = 0; t < tilesPerRow(); t++) {
            float d = scale(row, t);
            int end = Math.min(cols, (t + 1) * TILE);
            for (int j = t * TILE; j < end; j++) {
                out[outOffset + j] = scaleBytes() > 0 ? d * weight(row, j) : weight(row, j);
            }
        }
    }

    /**
     * Writes the tensor in ggml's row-major file layout into {@code target}, which must be exactly
     * {@code data().byteSize()} bytes: what a GGUF file holds for it, whatever the layout in memory.
     */
    public void writeRowMajor(MemorySegment target) {
        WeightTensor current = repacked;
        if (current != null) {
            current.writeRowMajor(target);
            return;
        }
        MemorySegment.copy(data, 0, target, 0, data.byteSize());
        Interleaving.restoreRowMajor(this, target);
    }

    /**
     * This tensor with its leading rows repacked, in place, into the interleaved layout the vector kernels read
     * (see {@link Interleaving}); this tensor itself must not be used afterwards. Returns {@code this} when no
     * layout change applies (vector kernels off, too few rows, or rows not a whole number of tiles). Asked again,
     * it returns the same repacked tensor instead of repacking the memory twice, so several runners may prepare
     * the same loaded weights.
     *
     * @throws ModelFormatException if a block scale is infinite or NaN (the kernels convert only finite scales)
     */
    public synchronized WeightTensor interleaved() {
        if (repacked != null) {
            return repacked;
        }
        int target = Interleaving.rowsToInterleave(this);
        if (target == interleavedRows) {
            return this;
        }
        MemorySegment memory = data;
        if (memory.isReadOnly() || !memory.isNative()) {
            // A read-only mapping (no copy-on-write on this platform), or an array's bytes, which the native kernels
            // cannot address: repack an off-heap copy, owned by the tensor.
            memory = java.lang.foreign.Arena.ofAuto().allocate(data.byteSize(), 64).copyFrom(data);
        }
        WeightTensor copy = create(type(), name, memory, rows, cols, 0);
        Interleaving.repack(copy, target);
        repacked = create(type(), name, memory, rows, cols, target);
        return repacked;
    }

    /**
     * {@link #decodeSetTile} element by element through {@link #weight} and {@link #scale}, for a layout no vector
     * decoder reads (the native kernels' own).
     */
    final void decodeSetTileByElement(int set, int tile, float[] w, float[] s) {
        int g = Interleaving.SET_ROWS;
        for (int r = 0; r < g; r++) {
            s[r] = scale(set * g + r, tile);
            for (int k = 0; k < TILE; k++) {
                w[k * g + r] = weight(set * g + r, tile * TILE + k);
            }
        }
    }

    /**
     * Decodes tile {@code tile} of set {@code set} ({@link Interleaving#SET_ROWS} rows) to floats for
     * {@link TileKernel}: the value {@link #weight} of the set's row {@code r}, column {@code k} at
     * {@code w[k * SET_ROWS + r]}, and that row's block scale at {@code s[r]}.
     */
    abstract void decodeSetTile(int set, int tile, float[] w, float[] s);
}
