package dev.continuum.jmh;

import dev.continuum.tensor.BlockQuantTestData;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.MatMul;
import dev.continuum.tensor.WeightEncoder;
import dev.continuum.tensor.WeightTensor;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One linear layer, {@code tokens x cols} activations times a {@code rows x cols} weight matrix, through the
 * production {@link MatMul} on its own {@link ComputePool}. With {@code footprintMiB} larger than the caches
 * (the default, like a real model) the weights stream from DRAM: single-token figures are then a bandwidth
 * measurement. Besides calls per second JMH reports the auxiliary rates {@code macs} (multiply-adds per second)
 * and {@code weightBytes} (weight bytes streamed per second).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx4g")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MatMulBenchmark {
    /** Any readable type; the block formats (Q4_K, Q6_K, ...) get random blocks with ordinary scales. */
    @Param({"Q8_0", "Q4_0", "F16", "Q4_K", "Q6_K"})
    public String type;

    @Param({"2048x2048"})
    public String shape;

    @Param({"1", "4", "16", "64"})
    public int tokens;

    @Param({"2"})
    public int threads;

    /** Total weight bytes cycled through; larger than the last-level cache means DRAM-bound like a real model. */
    @Param({"512"})
    public int footprintMiB;

    private Arena arena;
    private ComputePool pool;
    private MatMul matmul;
    private WeightTensor[] weights;
    private float[] x;
    private float[] out;
    private int next;
    long macsPerCall;
    long bytesPerCall;

    /** Per-iteration rates JMH reports next to the call rate. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Rates {
        public long macs;
        public long weightBytes;

        @Setup(Level.Iteration)
        public void reset() {
            macs = 0;
            weightBytes = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        String[] dims = shape.split("x");
        int rows = Integer.parseInt(dims[0]);
        int cols = Integer.parseInt(dims[1]);
        GgmlType t = GgmlType.valueOf(type);
        long bytes = t.bytesFor((long) rows * cols);
        int copies = (int) Math.max(1, ((long) footprintMiB << 20) / bytes);
        arena = Arena.ofShared();
        weights = new WeightTensor[copies];
        SplittableRandom random = new SplittableRandom(42);
        float[] row = new float[cols];
        for (int c = 0; c < copies; c++) {
            if (t.blockSize > 1 && t != GgmlType.Q8_0 && t != GgmlType.Q4_0) {
                // Nothing encodes the block formats; their speed does not depend on the values.
                weights[c] = BlockQuantTestData.random(t, rows, cols, 42 + c, 1e-3f, arena).interleaved();
                continue;
            }
            MemorySegment data = arena.allocate(bytes, 64);
            long rowBytes = bytes / rows;
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) {
                    row[j] = (float) (random.nextGaussian() * 0.02);
                }
                WeightEncoder.encode(t, row, 0, cols, data, r * rowBytes);
            }
            weights[c] = WeightTensor.of("bench", t, data, rows, cols).interleaved();
        }
        x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        out = new float[tokens * rows];
        pool = new ComputePool(threads);
        matmul = new MatMul(pool);
        macsPerCall = (long) tokens * rows * cols;
        bytesPerCall = bytes;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float[] multiply(Rates rates) {
        WeightTensor w = weights[next];
        next = next + 1 == weights.length ? 0 : next + 1;
        matmul.multiply(w, x, tokens, out);
        rates.macs += macsPerCall;
        rates.weightBytes += bytesPerCall;
        return out;
    }
}
