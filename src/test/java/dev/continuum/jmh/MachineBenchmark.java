package dev.continuum.jmh;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * The machine's ceilings that the kernels are held against: float FMA throughput (lanes per second, per thread)
 * and DRAM read bandwidth, both with the Vector API from Java. Run with {@code -t 1} and {@code -t 2} (threads).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
public class MachineBenchmark {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int FMA_ROUNDS = 1 << 16;

    /** Counters JMH reports as rates: FMA lanes (multiply-adds) and bytes read per second. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rates {
        public long fmaLanes;
        public long bytesRead;

        @Setup(Level.Iteration)
        public void reset() {
            fmaLanes = 0;
            bytesRead = 0;
        }
    }

    /** A 512 MiB buffer per thread, far beyond the caches. */
    @State(Scope.Thread)
    public static class Buffer {
        Arena arena;
        MemorySegment data;

        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofConfined();
            data = arena.allocate(512L << 20, 64);
            data.fill((byte) 1);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    @State(Scope.Thread)
    public static class Operands {
        float[] values = {1.0001f, 0.9999f, 1.0002f, 0.9998f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f,
                1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f};
    }

    /** Twelve independent FMA chains: enough to cover latency times pipes on current x86 cores. */
    @Benchmark
    @Threads(1)
    public float fmaPeak(Operands o, Rates rates) {
        FloatVector a = FloatVector.fromArray(F, o.values, 0);
        FloatVector b = FloatVector.fromArray(F, o.values, F.length());
        FloatVector c0 = a, c1 = b, c2 = a, c3 = b, c4 = a, c5 = b, c6 = a, c7 = b, c8 = a, c9 = b, c10 = a, c11 = b;
        for (int i = 0; i < FMA_ROUNDS; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
            c8 = c8.fma(a, b);
            c9 = c9.fma(a, b);
            c10 = c10.fma(a, b);
            c11 = c11.fma(a, b);
        }
        rates.fmaLanes += 12L * FMA_ROUNDS * F.length();
        return c0.add(c1).add(c2.add(c3)).add(c4.add(c5)).add(c6.add(c7)).add(c8.add(c9)).add(c10.add(c11)).lane(0);
    }

    /** Sums the buffer in four interleaved sequential streams, as the matmul kernels read four row groups. */
    @Benchmark
    public int readBandwidth(Buffer buffer, Rates rates) {
        MemorySegment s = buffer.data;
        long quarter = s.byteSize() / 4;
        int step = I.vectorByteSize();
        IntVector a0 = IntVector.zero(I);
        IntVector a1 = a0;
        IntVector a2 = a0;
        IntVector a3 = a0;
        for (long o = 0; o < quarter; o += step) {
            a0 = a0.add(IntVector.fromMemorySegment(I, s, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(IntVector.fromMemorySegment(I, s, o + quarter, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(IntVector.fromMemorySegment(I, s, o + 2 * quarter, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(IntVector.fromMemorySegment(I, s, o + 3 * quarter, ByteOrder.LITTLE_ENDIAN));
        }
        rates.bytesRead += s.byteSize();
        return a0.add(a1).add(a2.add(a3)).lane(0);
    }
}
