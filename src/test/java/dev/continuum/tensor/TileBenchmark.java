package dev.continuum.tensor;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The matmul kernels in isolation, on cache-resident data: decoding one tile of a set ({@code decode}, per
 * format), multiplying a decoded tile by four tokens ({@code four}) or one ({@code one}), each covering one set of
 * rows by 32 columns ({@code SET_ROWS * 32} weights); and the fused single-token kernel over a whole set of
 * 2048 columns ({@code single}: {@code SET_ROWS * 2048} MACs per call, Q8_0 and Q4_0 only).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class TileBenchmark {
    @Param({"Q8_0", "Q4_0", "F16"})
    public String type;

    private WeightTensor w;
    private final float[] tile = new float[Interleaving.SET_ROWS * WeightTensor.TILE];
    private final float[] scales = new float[Interleaving.SET_ROWS];
    private float[] x;
    private float[] out;
    private final float[] partial = new float[4 * Interleaving.SET_ROWS];
    private int b;
    private final QuantizedActivations qa = new QuantizedActivations();
    private final float[] single = new float[Interleaving.SET_ROWS];

    @Setup
    public void setUp() {
        GgmlType t = GgmlType.valueOf(type);
        int rows = Interleaving.SET_ROWS;
        int cols = 2048;
        long bytes = t.bytesFor((long) rows * cols);
        MemorySegment data = Arena.global().allocate(bytes, 64);
        SplittableRandom random = new SplittableRandom(1);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                row[j] = (float) random.nextGaussian();
            }
            WeightEncoder.encode(t, row, 0, cols, data, r * (bytes / rows));
        }
        w = WeightTensor.of("bench", t, data, rows, cols).interleaved();
        x = new float[8 * cols];
        out = new float[8 * rows];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        qa.quantize(x, 8, cols);
    }

    @Benchmark
    public float[] single() {
        FormatKernels.SingleTokenKernel kernel = w.kernels().single();
        if (kernel != null) {
            kernel.multiply(0, x, qa, 0, single, 0, scales);
        }
        return single;
    }

    @Benchmark
    public float[] decode() {
        b = (b + 1) & 63;
        w.decodeSetTile(0, b, tile, scales);
        return tile;
    }

    @Benchmark
    public float[] four() {
        TileKernel.four(tile, scales, x, 0, 2048, out, 0, Interleaving.SET_ROWS, partial, null, 0, 0);
        return out;
    }

    private final short[] shortTile = new short[Interleaving.SET_ROWS * WeightTensor.TILE];
    private final short[] sums = new short[8 * Interleaving.SET_ROWS];

    @Benchmark
    public float[] eight() {
        if (w instanceof Q4_0Tensor) {
            ShortTileKernel.eight(shortTile, scales, qa.shorts, 0, 2048, qa.scales, 0, 64, out, 0,
                    Interleaving.SET_ROWS, sums);
        }
        return out;
    }

    @Benchmark
    public short[] decodeShorts() {
        if (w instanceof Q4_0Tensor q4) {
            b = (b + 1) & 63;
            q4.decodeSetTileShorts(0, b, shortTile, scales);
        }
        return shortTile;
    }

    @Benchmark
    public float[] one() {
        TileKernel.one(tile, scales, x, 0, out, 0, partial, null, 0);
        return out;
    }
}
