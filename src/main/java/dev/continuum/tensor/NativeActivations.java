package dev.continuum.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A call's activations copied off the heap (quantized, {@link QuantizedActivations}, or floats), where the native kernels read
 * them by address: the int8 values ({@code tokens x cols}), the per-tile scales and the per-tile sums, at the same
 * offsets as the Java arrays. One copy per matmul call (a few kilobytes), not per set; the segments grow as needed
 * and are reused, so a decode step allocates nothing. Not thread-safe: filled by the calling thread before the
 * pool's threads read it.
 */
final class NativeActivations {
    private MemorySegment values = MemorySegment.NULL;
    private MemorySegment scales = MemorySegment.NULL;
    private MemorySegment sums = MemorySegment.NULL;
    private MemorySegment floats = MemorySegment.NULL;

    /** Copies the call's float activations ({@code n} floats), for the native F16 kernel. */
    void copyFloats(float[] x, int n) {
        if (floats.byteSize() < 4L * n) {
            floats = allocate(4L * n);
        }
        MemorySegment.copy(x, 0, floats, ValueLayout.JAVA_FLOAT, 0, n);
    }

    /** Address of the first float activation. */
    long floats() {
        return floats.address();
    }

    /** Copies {@code qa}'s first {@code tokens} rows. */
    void copyFrom(QuantizedActivations qa, int tokens) {
        int n = tokens * qa.cols;
        int tiles = tokens * qa.tiles;
        if (values.byteSize() < n) {
            values = allocate(n);
        }
        if (scales.byteSize() < 4L * tiles) {
            scales = allocate(4L * tiles);
            sums = allocate(4L * tiles);
        }
        MemorySegment.copy(qa.bytes, 0, values, ValueLayout.JAVA_BYTE, 0, n);
        MemorySegment.copy(qa.scales, 0, scales, ValueLayout.JAVA_FLOAT, 0, tiles);
        MemorySegment.copy(qa.sums, 0, sums, ValueLayout.JAVA_INT, 0, tiles);
    }

    /** Address of token {@code token}'s first value. */
    long values(int token, int cols) {
        return values.address() + (long) token * cols;
    }

    /** Address of token {@code token}'s first tile scale. */
    long scales(int token, int tiles) {
        return scales.address() + 4L * token * tiles;
    }

    /** Address of token {@code token}'s first tile sum. */
    long sums(int token, int tiles) {
        return sums.address() + 4L * token * tiles;
    }

    private static MemorySegment allocate(long bytes) {
        // Owned by this object for its whole life (the arena is freed when the segment is unreachable); 64-byte
        // aligned, and rounded up so that a few more tokens do not reallocate.
        return Arena.ofAuto().allocate(Math.max(64, Long.highestOneBit(bytes - 1) << 1), 64);
    }
}
