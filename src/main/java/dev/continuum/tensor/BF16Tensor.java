package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;

import java.lang.foreign.MemorySegment;

/** BF16 weights (placeholder until the kernel lands). */
public final class BF16Tensor extends WeightTensor {
    BF16Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        throw new UnsupportedOperationException("BF16 kernel not written yet");
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        throw new UnsupportedOperationException("BF16 kernel not written yet");
    }
}
