package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F32 weights (scalar placeholder until the vector kernel lands). */
public final class F32Tensor extends WeightTensor {
    private static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    F32Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = (long) row * cols * 4;
        float sum = 0;
        for (int j = 0; j < cols; j++) {
            sum += data.get(LE, base + 4L * j) * x[xOffset + j];
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = (long) row * cols * 4;
        for (int j = 0; j < cols; j++) {
            out[outOffset + j] = data.get(LE, base + 4L * j);
        }
    }
}
