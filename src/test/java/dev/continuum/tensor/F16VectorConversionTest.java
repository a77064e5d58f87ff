package dev.continuum.tensor;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The hand-written vector half-to-float conversion of block scales against {@link Float#float16ToFloat} for every
 * zero and normal half, the values it is used for (see {@link WeightTensor#hasOnlyNormalScales}).
 */
class F16VectorConversionTest {
    @Test
    void everyHalfBitPatternConvertsExactly() {
        Assumptions.assumeTrue(VectorSupport.ENABLED, "Vector API not available");
        int lanes = VectorSupport.LANES;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment halves = arena.allocate(2L << 16);
            for (int h = 0; h < 1 << 16; h++) {
                halves.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * h, (short) h);
            }
            float[] lane = new float[lanes];
            for (int h = 0; h < 1 << 16; h += lanes) {
                F16Tensor.Vectorized.scales(halves, 2L * h, 0, 1, lane, 0);
                for (int i = 0; i < lanes; i++) {
                    int half = h + i;
                    float expected = Float.float16ToFloat((short) half);
                    int exponent = half & 0x7c00;
                    boolean zero = (half & 0x7fff) == 0;
                    if (zero || (exponent != 0 && exponent != 0x7c00)) {
                        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(lane[i]),
                                () -> "half 0x" + Integer.toHexString(half));
                    }
                }
            }
        }
    }
}
