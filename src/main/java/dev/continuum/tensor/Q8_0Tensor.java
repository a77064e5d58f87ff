package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;

import java.lang.foreign.MemorySegment;

/** Q8_0 weights (placeholder until the kernel lands). */
public final class Q8_0Tensor extends WeightTensor {
    Q8_0Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        throw new UnsupportedOperationException("Q8_0 kernel not written yet");
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        throw new UnsupportedOperationException("Q8_0 kernel not written yet");
    }
}
