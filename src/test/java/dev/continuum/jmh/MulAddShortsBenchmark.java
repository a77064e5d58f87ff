package dev.continuum.jmh;

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
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Issue 18, a side check of {@link Int8DotBenchmark}: does C2 vectorize its MulAddS2I idiom (short products added in
 * pairs into ints: {@code vpmaddwd}, or {@code vpdpwssd} with AVX-512 VNNI) at all, with everything in L1? Two
 * shapes over {@value #N} pairs of random shorts in -127..127: elementwise into an int array, and one int
 * reduction. Run once as is and once with {@code -jvmArgsAppend -XX:-UseSuperWord}: the difference is what
 * SuperWord makes of each shape, as no disassembler is at hand. {@code macs} counts multiply-adds per second.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MulAddShortsBenchmark {
    static final int N = 256;

    private final short[] a = new short[2 * N];
    private final short[] b = new short[2 * N];
    private final int[] acc = new int[N];

    /** Per-iteration rates JMH reports next to the call rate. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rates {
        public long macs;

        @Setup(Level.Iteration)
        public void reset() {
            macs = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 2 * N; i++) {
            a[i] = (short) (random.nextInt(255) - 127);
            b[i] = (short) (random.nextInt(255) - 127);
        }
    }

    @Benchmark
    public int[] elementwise(Rates rates) {
        for (int i = 0; i < N; i++) {
            acc[i] += a[2 * i] * b[2 * i] + a[2 * i + 1] * b[2 * i + 1];
        }
        rates.macs += 2 * N;
        return acc;
    }

    @Benchmark
    public int reduction(Rates rates) {
        int sum = 0;
        for (int i = 0; i < 2 * N; i += 2) {
            sum += a[i] * b[i] + a[i + 1] * b[i + 1];
        }
        rates.macs += 2 * N;
        return sum;
    }
}
