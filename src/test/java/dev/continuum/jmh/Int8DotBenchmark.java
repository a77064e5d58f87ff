package dev.continuum.jmh;

import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.Int8DotKernels;
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
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Issue 18: can pure Java multiply Q8_0 weights by 8-bit activations at int8 dot-product speed? One token times
 * one {@code rows x cols} Q8_0 matrix on one thread (the benchmark thread, no pool), by one of the candidate
 * kernels of {@link Int8DotKernels}:
 * <ul>
 *   <li>{@code float}: the float kernel production used before Q8_0 quantized its activations (bytes widened to
 *   floats, float FMAs), the baseline;</li>
 *   <li>{@code vectorInt}: Vector API, bytes widened to shorts, 16-bit multiplies, ints per block;</li>
 *   <li>{@code pairs}: plain Java over short[] in C2's MulAddS2I shape (weights widened to shorts at load); vectorized
 *   only with {@code -jvmArgsAppend -XX:CompileCommand=dontinline,dev.continuum.tensor.Int8DotKernels::pairChunk};</li>
 *   <li>{@code reduction}: the literal {@code sum += a[i]*b[i] + a[i+1]*b[i+1]} per block, row-major shorts;</li>
 *   <li>{@code vnni}: native C with AVX512-VNNI {@code vpdpbusd} on the GGUF row-major Q8_0 bytes, through FFM
 *   ({@link NativeVnniKernel}), all rows in one downcall; fails its trial with the reason if gcc or avx512_vnni
 *   is missing;</li>
 *   <li>{@code vnniLanes}: the same in llama.cpp's order (per block eight int lanes folded into eight float lanes,
 *   added at the end of the row), checked against the reference within a tolerance instead of bit for bit.</li>
 * </ul>
 * The integer kernels quantize the token's activations inside each call (part of their cost). The setup checks
 * every kernel's result against a scalar reference, bit for bit, and fails the trial if it differs.
 * {@code footprintMiB} 0 keeps one copy of the matrix (cache-resident when it fits the last-level cache); larger
 * values cycle through copies of it totalling that many MiB of Q8_0 bytes, so the weights stream from DRAM. Besides
 * calls per second JMH reports {@code macs} (multiply-adds per second) and {@code weightBytes} (bytes of the
 * kernel's own weight layout read per second: the short layouts read twice as many).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx6g")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class Int8DotBenchmark {
    @Param({"float", "vectorInt", "pairs", "reduction", "vnni", "vnniLanes"})
    public String kernel;

    @Param({"2048x2048", "5632x2048"})
    public String shape;

    @Param({"0"})
    public int footprintMiB;

    private int rows;
    private int cols;
    private int kind;
    private int copies;
    private int next;
    private float[] x;
    private float[] out;
    private final Int8DotKernels.Activations activations = new Int8DotKernels.Activations();
    private Arena arena;
    private WeightTensor[] tensors;
    private float[] scratch;
    private byte[][] bytes;
    private short[][] shorts;
    private float[][] scales;
    private short[] xx;
    private int[] acc;
    private NativeVnniKernel vnni;
    private MemorySegment[] segments;
    private short[] boundXq;
    private float[] boundDx;
    private MemorySegment xqSegment;
    private MemorySegment dxSegment;
    private MemorySegment sumSegment;
    private MemorySegment outSegment;
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
        rows = Integer.parseInt(dims[0]);
        cols = Integer.parseInt(dims[1]);
        int tiles = cols / WeightTensor.TILE;
        long q8Bytes = GgmlType.Q8_0.bytesFor((long) rows * cols);
        copies = (int) Math.max(1, ((long) footprintMiB << 20) / q8Bytes);
        SplittableRandom random = new SplittableRandom(42);
        byte[][] q = new byte[rows][cols];
        float[][] dw = new float[rows][tiles];
        short[][] d16 = new short[rows][tiles];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                q[r][c] = (byte) (random.nextInt(255) - 127);
            }
            for (int t = 0; t < tiles; t++) {
                d16[r][t] = Float.floatToFloat16((float) (0.0005 + random.nextDouble() * 0.005));
                dw[r][t] = Float.float16ToFloat(d16[r][t]);
            }
        }
        x = new float[cols];
        for (int i = 0; i < cols; i++) {
            x[i] = (float) random.nextGaussian();
        }
        out = new float[rows];
        float[] expected = new float[rows];
        macsPerCall = (long) rows * cols;
        switch (kernel) {
            case "float" -> {
                kind = 0;
                arena = Arena.ofShared();
                MemorySegment rowMajor = rowMajorQ8(q, d16);
                tensors = new WeightTensor[copies];
                for (int i = 0; i < copies; i++) {
                    MemorySegment data = arena.allocate(q8Bytes, 64).copyFrom(rowMajor);
                    tensors[i] = WeightTensor.of("bench", GgmlType.Q8_0, data, rows, cols).interleaved();
                    Int8DotKernels.requireProductionKernel(tensors[i]);
                }
                scratch = Int8DotKernels.productionScratch();
                for (int r = 0; r < rows; r++) {
                    expected[r] = Int8DotKernels.floatReference(tensors[0], r, x);
                }
                bytesPerCall = q8Bytes;
            }
            case "vectorInt" -> {
                kind = 1;
                byte[] w = Int8DotKernels.vectorLayout(q, cols);
                bytes = copiesOf(w);
                scales = copiesOf(Int8DotKernels.vectorScales(dw));
                bytesPerCall = w.length + 4L * scales[0].length;
            }
            case "pairs" -> {
                kind = 2;
                shorts = copiesOf(Int8DotKernels.pairLayout(q, cols));
                scales = copiesOf(Int8DotKernels.blockMajorScales(dw));
                xx = new short[2 * Int8DotKernels.PAIR_CHUNK];
                acc = new int[rows];
                bytesPerCall = 2L * rows * cols + 4L * scales[0].length;
            }
            case "reduction" -> {
                kind = 3;
                shorts = copiesOf(Int8DotKernels.rowMajorShorts(q, cols));
                scales = copiesOf(Int8DotKernels.rowMajorScales(dw));
                bytesPerCall = 2L * rows * cols + 4L * scales[0].length;
            }
            case "vnni", "vnniLanes" -> {
                kind = kernel.equals("vnni") ? 4 : 5;
                arena = Arena.ofShared();
                vnni = NativeVnniKernel.load(arena, kind == 5);
                MemorySegment rowMajor = rowMajorQ8(q, d16);
                segments = new MemorySegment[copies];
                for (int i = 0; i < copies; i++) {
                    segments[i] = arena.allocate(q8Bytes, 64).copyFrom(rowMajor);
                }
                outSegment = MemorySegment.ofArray(out);
                bytesPerCall = q8Bytes;
            }
            default -> throw new IllegalArgumentException("unknown kernel " + kernel);
        }
        if (kind != 0) {
            activations.quantize(x, cols);
            Int8DotKernels.reference(q, dw, activations.values(), activations.scales(), expected);
        }
        // vnniLanes adds in another order: within a tolerance of the largest row (a wrong kernel is off by O(1)).
        float tolerance = 0f;
        if (kind == 5) {
            for (float e : expected) {
                tolerance = Math.max(tolerance, 1e-4f * Math.abs(e));
            }
        }
        // Checked twice: the second call's rows were computed by a warm (possibly already compiled) kernel.
        for (int round = 0; round < 2; round++) {
            java.util.Arrays.fill(out, Float.NaN);
            run(0);
            for (int r = 0; r < rows; r++) {
                if (kind == 5 ? !(Math.abs(out[r] - expected[r]) <= tolerance)
                        : Float.floatToRawIntBits(out[r]) != Float.floatToRawIntBits(expected[r])) {
                    throw new AssertionError(kernel + " " + shape + ": row " + r + " is " + out[r] + ", the scalar"
                            + " reference gives " + expected[r]);
                }
            }
        }
    }

    private static MemorySegment rowMajorQ8(byte[][] q, short[][] d16) {
        int rows = q.length;
        int cols = q[0].length;
        MemorySegment m = MemorySegment.ofArray(new byte[(int) GgmlType.Q8_0.bytesFor((long) rows * cols)]);
        long o = 0;
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < d16[r].length; t++) {
                m.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), o, d16[r][t]);
                for (int j = 0; j < WeightTensor.TILE; j++) {
                    m.set(ValueLayout.JAVA_BYTE, o + 2 + j, q[r][t * WeightTensor.TILE + j]);
                }
                o += 34;
            }
        }
        return m;
    }

    private byte[][] copiesOf(byte[] w) {
        byte[][] all = new byte[copies][];
        for (int i = 0; i < copies; i++) {
            all[i] = w.clone();
        }
        return all;
    }

    private float[][] copiesOf(float[] w) {
        float[][] all = new float[copies][];
        for (int i = 0; i < copies; i++) {
            all[i] = w.clone();
        }
        return all;
    }

    private short[][] copiesOf(short[] w) {
        short[][] all = new short[copies][];
        for (int i = 0; i < copies; i++) {
            all[i] = w.clone();
        }
        return all;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (arena != null) {
            arena.close();
        }
    }

    private void run(int copy) {
        if (kind == 0) {
            Int8DotKernels.production(tensors[copy], x, out, scratch);
            return;
        }
        activations.quantize(x, cols);
        short[] xq = activations.values();
        float[] dx = activations.scales();
        if (kind >= 4) {
            if (xq != boundXq || dx != boundDx) {
                // The quantizer reuses its buffers: these heap segments are made once, not per call.
                boundXq = xq;
                boundDx = dx;
                xqSegment = MemorySegment.ofArray(xq);
                dxSegment = MemorySegment.ofArray(dx);
                sumSegment = MemorySegment.ofArray(activations.sums());
            }
            vnni.multiply(segments[copy], rows, cols, xqSegment, dxSegment, sumSegment, outSegment);
            return;
        }
        switch (kind) {
            case 1 -> Int8DotKernels.vectorInt(bytes[copy], scales[copy], rows, cols, xq, dx, out);
            case 2 -> Int8DotKernels.pairs(shorts[copy], scales[copy], rows, cols, xq, dx, xx, acc, out);
            default -> Int8DotKernels.reductionIdiom(shorts[copy], scales[copy], rows, cols, xq, dx, out);
        }
    }

    @Benchmark
    public float[] multiply(Rates rates) {
        run(next);
        next = next + 1 == copies ? 0 : next + 1;
        rates.macs += macsPerCall;
        rates.weightBytes += bytesPerCall;
        return out;
    }
}
