package dev.continuum.quantize;

import dev.continuum.format.ModelFormatException;
import dev.continuum.loader.GgufFile;
import dev.continuum.loader.GgufMetadata;
import dev.continuum.loader.GgufTensorInfo;
import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightEncoder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Quantizes a GGUF file the way llama-quantize does without an importance matrix, to the same bytes: metadata
 * copied in order with {@code general.quantization_version} and {@code general.file_type} moved to the end,
 * tensors in llama.cpp's order (by layer, then name), each matrix quantized to the type {@link TensorTypeRules}
 * picks, norms and other 1-D tensors copied, every tensor padded to 32 bytes.
 */
public final class GgufQuantizer {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int MAGIC = 0x46554747;
    private static final int VERSION = 3;
    /** llama-quantize writes with GGUF_DEFAULT_ALIGNMENT whatever general.alignment the input has. */
    private static final int ALIGNMENT = 32;
    private static final int QUANTIZATION_VERSION = 2;
    private static final int ROWS_PER_TASK = 16;
    private static final Set<String> DROPPED_KEYS = Set.of("general.quantization_version", "general.file_type",
            "split.no", "split.count", "split.tensors.count");

    /** Called after each tensor is written. */
    @FunctionalInterface
    public interface Progress {
        void tensorDone(int done, int total, long bytesDone, long bytesTotal);
    }

    /** One output tensor: its name, the type it got, and its size in the output. */
    public record TensorResult(String name, GgmlType type, long bytes, boolean gptq) {
    }

    /** What was written: the tensors in file order and the input and output sizes. */
    public record Result(List<TensorResult> tensors, long inputBytes, long outputBytes, int fallbacks) {
    }

    private record Plan(GgufTensorInfo in, GgmlType type, long bytes, long offset, boolean quantize) {
    }

    private GgufQuantizer() {
    }

    /**
     * Quantizes {@code in} (tensors F32, F16 or BF16) to {@code type} into {@code out}. With {@code pure} every
     * matrix gets the type's default tensor type (llama-quantize's {@code --pure}), no mix rules.
     */
    public static Result quantize(Path in, Path out, QuantizeType type, boolean pure, int threads, Progress progress)
            throws IOException {
        return quantize(in, out, type, pure, threads, progress, Map.of());
    }

    /**
     * As {@link #quantize(Path, Path, QuantizeType, boolean, int, Progress)}, but matrices whose type (after the
     * mix's choice and fallbacks) GPTQ writes ({@link Gptq#supports}) and that have a Hessian in {@code hessians}
     * (by tensor name) are quantized by GPTQ instead of plain rounding; the others as without. The Hessians are
     * left unchanged.
     */
    public static Result quantize(Path in, Path out, QuantizeType type, boolean pure, int threads, Progress progress,
                                  Map<String, double[]> hessians) throws IOException {
        // Shared: the worker threads read the input mapping and write the output one.
        try (Arena arena = Arena.ofShared();
             FileChannel inChannel = FileChannel.open(in, StandardOpenOption.READ)) {
            MemorySegment src = inChannel.map(FileChannel.MapMode.READ_ONLY, 0, inChannel.size(), arena);
            GgufFile gguf = GgufFile.parse(in, src);
            List<GgufTensorInfo> order = llamaOrder(gguf.tensors().values());
            TensorTypeRules rules = rules(gguf, order, type);
            List<Plan> plans = plan(order, type, pure, rules);
            byte[] header = header(RawMetadata.read(src), type, plans);
            long dataSize = 0;
            for (Plan p : plans) {
                dataSize = p.offset + alignUp(p.bytes);
            }
            try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.READ, StandardOpenOption.WRITE);
                 ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads))) {
                MemorySegment file = ch.map(FileChannel.MapMode.READ_WRITE, 0, header.length + dataSize, arena);
                MemorySegment.copy(header, 0, file, ValueLayout.JAVA_BYTE, 0, header.length);
                MemorySegment data = file.asSlice(header.length);
                long done = 0;
                List<TensorResult> results = new ArrayList<>(plans.size());
                for (int i = 0; i < plans.size(); i++) {
                    Plan p = plans.get(i);
                    MemorySegment target = data.asSlice(p.offset, p.bytes);
                    double[] h = hessians.get(p.in.name());
                    boolean byGptq = p.quantize && h != null && Gptq.supports(p.type)
                            && p.in.columns() % Gptq.GROUP == 0;
                    if (byGptq) {
                        gptqTensor(gguf.bytes(p.in), p.in, p.type, h.clone(), target);
                    } else if (p.quantize) {
                        quantizeTensor(gguf.bytes(p.in), p.in, p.type, target, pool, threads);
                    } else {
                        MemorySegment.copy(gguf.bytes(p.in), 0, target, 0, p.bytes);
                    }
                    done += p.bytes;
                    results.add(new TensorResult(p.in.name(), p.type, p.bytes, byGptq));
                    if (progress != null) {
                        progress.tensorDone(i + 1, plans.size(), done, dataSize);
                    }
                }
                file.force();
                return new Result(results, src.byteSize(), header.length + dataSize, rules.fallbacks);
            }
        }
    }

    /**
     * llama.cpp's tensor order ({@code weight_name_comparer}): by the layer number of {@code blk.N.} (tensors
     * outside layers first), then by name.
     */
    static List<GgufTensorInfo> llamaOrder(Collection<GgufTensorInfo> tensors) {
        List<GgufTensorInfo> list = new ArrayList<>(tensors);
        list.sort(Comparator.comparingInt((GgufTensorInfo t) -> layerOf(t.name())).thenComparing(GgufTensorInfo::name));
        return list;
    }

    /** N for a name starting {@code blk.N.}, else -1 (as sscanf("blk.%d.") leaves it). */
    static int layerOf(String name) {
        if (!name.startsWith("blk.")) {
            return -1;
        }
        int i = 4;
        int sign = 1;
        if (i < name.length() && (name.charAt(i) == '-' || name.charAt(i) == '+')) {
            sign = name.charAt(i) == '-' ? -1 : 1;
            i++;
        }
        int start = i;
        long v = 0;
        while (i < name.length() && Character.isDigit(name.charAt(i)) && v < Integer.MAX_VALUE) {
            v = v * 10 + (name.charAt(i) - '0');
            i++;
        }
        return i == start ? -1 : (int) (sign * v);
    }

    private static TensorTypeRules rules(GgufFile gguf, List<GgufTensorInfo> order, QuantizeType type) {
        GgufMetadata m = gguf.metadata();
        String arch = m.getString("general.architecture", "llama");
        int layers = m.getInt(arch + ".block_count", 0);
        int heads = m.getInt(arch + ".attention.head_count", 1);
        int kvHeads = m.getInt(arch + ".attention.head_count_kv", heads);
        boolean hasOutput = false;
        int nAttentionWv = 0;
        for (GgufTensorInfo t : order) {
            String n = t.name();
            if (n.contains("attn_v.weight") || n.contains("attn_qkv.weight") || n.contains("attn_kv_b.weight")) {
                nAttentionWv++;
            } else if (n.equals("output.weight")) {
                hasOutput = true;
            }
        }
        return new TensorTypeRules(type, hasOutput, nAttentionWv, layers, kvHeads == 0 ? 0 : heads / kvHeads);
    }

    private static List<Plan> plan(List<GgufTensorInfo> order, QuantizeType type, boolean pure, TensorTypeRules rules) {
        List<Plan> plans = new ArrayList<>(order.size());
        long offset = 0;
        for (GgufTensorInfo t : order) {
            GgmlType target = t.type();
            if (quantizable(t)) {
                target = type.defaultType;
                if (!pure && type.quantized()) {
                    target = rules.choose(t.name(), t.columns());
                }
            }
            boolean convert = target != t.type();
            if (convert && t.type() != GgmlType.F32 && t.type() != GgmlType.F16 && t.type() != GgmlType.BF16) {
                throw new ModelFormatException(t.name() + " is " + t.type()
                        + ": requantizing is not supported, give an F32, F16 or BF16 model");
            }
            if (t.columns() % target.blockSize != 0) {
                throw new ModelFormatException("tensor '" + t.name() + "' has rows of " + t.columns()
                        + " values, not a multiple of the " + target + " block size " + target.blockSize);
            }
            long bytes = target.bytesFor(t.elementCount());
            plans.add(new Plan(t, target, bytes, offset, convert));
            offset += alignUp(bytes);
        }
        return plans;
    }

    /** llama-quantize's test: 2-D or more, named *weight, not a norm nor one of the few small special matrices. */
    private static boolean quantizable(GgufTensorInfo t) {
        String n = t.name();
        return n.endsWith("weight") && nDims(t.dims()) >= 2 && !n.contains("_norm.weight")
                && !n.contains("ffn_gate_inp.weight") && !n.equals("position_embd.weight")
                && !n.equals("token_types.weight") && !n.contains("ssm_conv1d.weight")
                && !n.contains("time_mix_first.weight") && !n.contains("time_mix_w1.weight")
                && !n.contains("time_mix_w2.weight") && !n.contains("time_mix_decay_w1.weight")
                && !n.contains("time_mix_decay_w2.weight") && !n.contains("time_mix_lerp_fused.weight")
                && !n.contains("attn_rel_b.weight");
    }

    /** ggml_n_dims: dimensions up to the last one above 1. */
    private static int nDims(long[] dims) {
        for (int i = dims.length - 1; i >= 1; i--) {
            if (dims[i] > 1) {
                return i + 1;
            }
        }
        return 1;
    }

    private static byte[] header(RawMetadata meta, QuantizeType type, List<Plan> plans) {
        Bytes h = new Bytes();
        List<RawMetadata.Entry> kept = new ArrayList<>();
        for (RawMetadata.Entry e : meta.entries()) {
            if (!DROPPED_KEYS.contains(e.key())) {
                kept.add(e);
            }
        }
        h.i32(MAGIC).i32(VERSION).i64(plans.size()).i64(kept.size() + 2);
        for (RawMetadata.Entry e : kept) {
            h.raw(e.bytes());
        }
        h.string("general.quantization_version").i32(4).i32(QUANTIZATION_VERSION);
        h.string("general.file_type").i32(4).i32(type.fileType);
        for (Plan p : plans) {
            long[] dims = p.in.dims();
            int n = nDims(dims);
            h.string(p.in.name()).i32(n);
            for (int d = 0; d < n; d++) {
                h.i64(dims[d]);
            }
            h.i32(p.type.id).i64(p.offset);
        }
        while (h.size() % ALIGNMENT != 0) {
            h.raw(new byte[1]);
        }
        return h.toByteArray();
    }

    private static long alignUp(long v) {
        return (v + ALIGNMENT - 1) & -ALIGNMENT;
    }

    private static void quantizeTensor(MemorySegment src, GgufTensorInfo t, GgmlType type, MemorySegment dst,
                                       ExecutorService pool, int threads) throws IOException {
        int cols = Math.toIntExact(t.columns());
        long rows = t.rows();
        long rowBytes = type.bytesFor(cols);
        long chunks = (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        AtomicInteger next = new AtomicInteger();
        int workers = (int) Math.max(1, Math.min(threads, chunks));
        List<Future<?>> futures = new ArrayList<>(workers);
        for (int w = 0; w < workers; w++) {
            futures.add(pool.submit(() -> {
                float[] row = new float[cols];
                byte[] packed = new byte[Math.toIntExact(rowBytes)];
                BlockEncoder encoder = type.blockSize > 1 ? BlockEncoder.of(type) : null;
                MemorySegment packedSegment = MemorySegment.ofArray(packed);
                for (long c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                    long end = Math.min(rows, (c + 1) * ROWS_PER_TASK);
                    for (long r = c * ROWS_PER_TASK; r < end; r++) {
                        readRow(src, t.type(), r * cols, row);
                        if (encoder != null) {
                            encoder.encodeRow(row, 0, cols, packed, 0);
                        } else {
                            WeightEncoder.encode(type, row, 0, cols, packedSegment, 0);
                        }
                        MemorySegment.copy(packed, 0, dst, ValueLayout.JAVA_BYTE, r * rowBytes, packed.length);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while quantizing " + t.name(), e);
            } catch (ExecutionException e) {
                throw new IOException("quantizing " + t.name() + " failed: " + e.getCause(), e.getCause());
            }
        }
    }

    private static void gptqTensor(MemorySegment src, GgufTensorInfo t, GgmlType type, double[] h, MemorySegment dst) {
        int cols = Math.toIntExact(t.columns());
        int rows = Math.toIntExact(t.rows());
        float[] w = new float[Math.multiplyExact(rows, cols)];
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            readRow(src, t.type(), (long) r * cols, row);
            System.arraycopy(row, 0, w, r * cols, cols);
        }
        byte[] packed = new byte[Math.toIntExact(dst.byteSize())];
        Gptq.quantize(type, w, rows, cols, h, packed);
        MemorySegment.copy(packed, 0, dst, ValueLayout.JAVA_BYTE, 0, packed.length);
    }

    /** Widens one row of an F32, F16 or BF16 tensor to floats (exactly, as ggml's to_float does). */
    private static void readRow(MemorySegment src, GgmlType type, long first, float[] row) {
        switch (type) {
            case F32 -> MemorySegment.copy(src, F32, first * 4, row, 0, row.length);
            case F16 -> {
                for (int i = 0; i < row.length; i++) {
                    row[i] = Float.float16ToFloat(src.get(I16, (first + i) * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < row.length; i++) {
                    row[i] = Float.intBitsToFloat(src.get(I16, (first + i) * 2) << 16);
                }
            }
            default -> throw new IllegalStateException("cannot read " + type);
        }
    }

    /** A little-endian byte builder for the header. */
    private static final class Bytes extends ByteArrayOutputStream {
        Bytes i32(int v) {
            write(v);
            write(v >> 8);
            write(v >> 16);
            write(v >> 24);
            return this;
        }

        Bytes i64(long v) {
            return i32((int) v).i32((int) (v >>> 32));
        }

        Bytes string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            write(b, 0, b.length);
            return this;
        }

        Bytes raw(byte[] b) {
            write(b, 0, b.length);
            return this;
        }
    }
}
