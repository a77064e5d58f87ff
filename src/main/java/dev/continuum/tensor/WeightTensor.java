package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;
import dev.continuum.loader.ModelFormatException;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A read-only 2-D weight matrix of {@code rows x cols} elements in one ggml storage format, backed by a memory
 * segment (usually a slice of a memory-mapped model file). Row {@code r} holds elements
 * {@code [r*cols, (r+1)*cols)}; a linear layer's output {@code i} is {@code dot(i, x)}.
 */
public abstract sealed class WeightTensor permits F32Tensor, F16Tensor, BF16Tensor, Q8_0Tensor, Q4_0Tensor {
    protected final MemorySegment data;
    protected final int rows;
    protected final int cols;

    protected WeightTensor(MemorySegment data, int rows, int cols) {
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    /** Wraps {@code data} as a tensor of {@code type}; fails clearly on a type without a kernel. */
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
        int r = (int) rows;
        int c = (int) cols;
        return switch (type) {
            case F32 -> new F32Tensor(data, r, c);
            case F16 -> new F16Tensor(data, r, c);
            case BF16 -> new BF16Tensor(data, r, c);
            case Q8_0 -> new Q8_0Tensor(data, r, c);
            case Q4_0 -> new Q4_0Tensor(data, r, c);
            default -> throw new ModelFormatException("tensor '" + name + "' has type " + type
                    + ", which Continuum does not support (supported: F32, F16, BF16, Q8_0, Q4_0)");
        };
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

    public abstract GgmlType type();

    /**
     * {@code sum_j W[row, j] * x[xOffset + j]} over the {@code cols} elements of the row, in float32 with a
     * summation order that depends only on {@code cols}: the same row and {@code x} always give the same bits.
     */
    public abstract float dot(int row, float[] x, int xOffset);

    /** {@link #dot} by the portable scalar kernel. */
    abstract float dotScalar(int row, float[] x, int xOffset);

    /** {@link #dot} by the Vector API kernel; only callable when {@link VectorSupport#ENABLED}. */
    abstract float dotVector(int row, float[] x, int xOffset);

    final void checkDotArguments(int row, float[] x, int xOffset) {
        Objects.checkIndex(row, rows);
        Objects.checkFromIndexSize(xOffset, cols, x.length);
    }

    /** Writes row {@code row} as floats into {@code out[outOffset ..]}. */
    public abstract void dequantizeRow(int row, float[] out, int outOffset);
}
