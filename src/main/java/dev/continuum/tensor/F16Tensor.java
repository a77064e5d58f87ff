package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;

import java.lang.foreign.MemorySegment;

/** F16 weights (placeholder until the kernel lands). */
public final class F16Tensor extends WeightTensor {
    F16Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        throw new UnsupportedOperationException("F16 kernel not written yet");
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        throw new UnsupportedOperationException("F16 kernel not written yet");
    }
}
