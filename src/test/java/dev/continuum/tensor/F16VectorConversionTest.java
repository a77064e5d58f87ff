package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hand-written vector half-to-float conversion against {@link Float#float16ToFloat} for all 65536 halves. */
class F16VectorConversionTest {
    private static final int COLS = 16;

    @Test
    void everyHalfBitPatternConvertsExactly() {
        Assumptions.assumeTrue(VectorSupport.ENABLED, "Vector API not available");
        // Row h holds half h at column h % 16 and zeros elsewhere, so its dot with all-ones is that half's value.
        int rows = 1 << 16;
        ByteBuffer buf = ByteBuffer.allocate(rows * COLS * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int h = 0; h < rows; h++) {
            buf.putShort((h * COLS + h % COLS) * 2, (short) h);
        }
        WeightTensor t = WeightTensor.of("halves", GgmlType.F16, MemorySegment.ofArray(buf.array()), rows, COLS);
        float[] ones = new float[COLS];
        Arrays.fill(ones, 1f);
        for (int h = 0; h < rows; h++) {
            float expected = Float.float16ToFloat((short) h);
            float actual = ((F16Tensor) t).dotVector(h, ones, 0);
            if (Float.isNaN(expected)) {
                assertTrue(Float.isNaN(actual), "half 0x" + Integer.toHexString(h) + " should be NaN");
            } else {
                // Adding the +0 products turns -0 into +0; == treats them as equal.
                int half = h;
                assertEquals(expected == 0 ? 0f : expected, actual == 0 ? 0f : actual,
                        () -> "half 0x" + Integer.toHexString(half));
            }
        }
    }
}
