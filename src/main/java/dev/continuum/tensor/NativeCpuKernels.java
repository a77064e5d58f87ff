package dev.continuum.tensor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * The native CPU kernels ({@code src/main/native}, built into the jar by the Maven build with gcc) and the choice,
 * made once per JVM, of whether the quantized formats multiply through them or through the pure-Java kernels.
 *
 * <p>The choice: {@value #PROPERTY} (or {@code CONTINUUM_CPU_KERNELS}) is {@code auto} (the default), {@code java}
 * or {@code native}. {@code auto} takes the native kernels where the library loads, its ABI version matches, the
 * CPU has AVX512-VNNI (asked of the library, which reads CPUID) and the vector kernels run at 512 bits (the native
 * layout is made for sets of 64 rows); otherwise the Java kernels, with the reason in {@link #describe()}, which the
 * runner's start-up line shows. {@code native} where the native kernels cannot run fails the model's preparation
 * with that reason instead of quietly running slower.
 *
 * <p>The library is loaded straight from the classes directory in a build tree, or extracted from the jar into
 * {@code java.io.tmpdir} (a writable {@code /tmp} under a read-only root, as the k8s manifests mount it), or read
 * from {@value #LIBRARY_PROPERTY} when set. Calls pass raw addresses as {@code long}s ({@link java.lang.foreign}
 * segments made per call would allocate on the hot path) and are critical downcalls: the kernels neither block nor
 * call back, so the thread-state transition is skipped.
 */
public final class NativeCpuKernels {
    static final String PROPERTY = "continuum.cpu-kernels";
    static final String LIBRARY_PROPERTY = "continuum.native-library";
    /** The library's ABI ({@code continuum_abi_version} in {@code quant_vnni.c}); a mismatch is refused. */
    static final int ABI_VERSION = 2;
    private static final int FEATURE_AVX512_VNNI = 1;
    private static final String RESOURCE = "/dev/continuum/tensor/native/linux-x86_64/libcontinuum_cpu.so";

    /** What was decided: the kernel handles (null for the Java kernels) and the sentence that says why. */
    private record Route(MethodHandle q8_0Set, MethodHandle q4_0Set, MethodHandle f16Set, MethodHandle q4_1Set,
                         MethodHandle q5_0Set, MethodHandle q5_1Set, MethodHandle iq4_nlSet, MethodHandle q2_KSet,
                         MethodHandle q3_KSet, MethodHandle q4_KSet, MethodHandle q5_KSet, MethodHandle q6_KSet,
                         String description, boolean forcedButMissing) {
        static Route java(String description, boolean forcedButMissing) {
            return new Route(null, null, null, null, null, null, null, null, null, null, null, null, description,
                    forcedButMissing);
        }
    }

    private static final Route ROUTE = decide();
    /** The handles as constants, so that the JIT binds the calls below directly. */
    private static final MethodHandle Q8_0_SET = ROUTE.q8_0Set();
    private static final MethodHandle Q4_0_SET = ROUTE.q4_0Set();
    private static final MethodHandle F16_SET = ROUTE.f16Set();
    private static final MethodHandle Q4_1_SET = ROUTE.q4_1Set();
    private static final MethodHandle Q5_0_SET = ROUTE.q5_0Set();
    private static final MethodHandle Q5_1_SET = ROUTE.q5_1Set();
    private static final MethodHandle IQ4_NL_SET = ROUTE.iq4_nlSet();
    private static final MethodHandle Q2_K_SET = ROUTE.q2_KSet();
    private static final MethodHandle Q3_K_SET = ROUTE.q3_KSet();
    private static final MethodHandle Q4_K_SET = ROUTE.q4_KSet();
    private static final MethodHandle Q5_K_SET = ROUTE.q5_KSet();
    private static final MethodHandle Q6_K_SET = ROUTE.q6_KSet();

    private NativeCpuKernels() {
    }

    /**
     * {@code continuum_q8_0_vnni_set(set, tiles, tokens, xq, dx, xsum, out)}, all {@code long}; see
     * {@code quant_vnni.c} for what it computes. Null when the Java kernels serve.
     */
    static MethodHandle q8_0Set() {
        requireUsable();
        return ROUTE.q8_0Set();
    }

    /** {@code continuum_q4_0_vnni_set}, as {@link #q8_0Set()} for Q4_0. */
    static MethodHandle q4_0Set() {
        requireUsable();
        return ROUTE.q4_0Set();
    }

    /** Whether the quantized formats (Q8_0, Q4_0) and F16 multiply through the native kernels in this JVM. */
    static boolean enabled() {
        requireUsable();
        return ROUTE.q8_0Set() != null;
    }

    /**
     * Every token of {@code na} times one Q8_0 set at address {@code set} (the native layout, {@link VnniLayout}),
     * through {@code scratch}, into {@code out[outOffset + t * outStride + r]}: {@link FormatKernels.SetKernel}.
     */
    static void q8_0(long set, int tiles, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                     int outOffset, int outStride) {
        try {
            Q8_0_SET.invokeExact(set, (long) tiles, (long) tokens, na.values(0, tiles * WeightTensor.TILE),
                    na.scales(0, tiles), na.sums(0, tiles), scratch.address());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        copyOut(scratch, tokens, out, outOffset, outStride);
    }

    /** As {@link #q8_0} for a Q4_0 set. */
    static void q4_0(long set, int tiles, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                     int outOffset, int outStride) {
        try {
            Q4_0_SET.invokeExact(set, (long) tiles, (long) tokens, na.values(0, tiles * WeightTensor.TILE),
                    na.scales(0, tiles), na.sums(0, tiles), scratch.address());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        copyOut(scratch, tokens, out, outOffset, outStride);
    }

    /** As {@link #q4_K} for a Q4_1 set. */
    static void q4_1(long set, int tiles, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                     int outOffset, int outStride) {
        try {
            Q4_1_SET.invokeExact(set, (long) tiles, (long) tokens, na.values(0, tiles * WeightTensor.TILE),
                    na.scales(0, tiles), na.sums(0, tiles), scratch.address());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        copyOut(scratch, tokens, out, outOffset, outStride);
    }

    /** As {@link #q4_K} for a Q5_0 set. */
    static void q5_0(long set, int tiles, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                     int outOffset, int outStride) {
        try {
            Q5_0_SET.invokeExact(set, (long) tiles, (long) tokens, na.values(0, tiles * WeightTensor.TILE),
                    na.scales(0, tiles), na.sums(0, tiles), scratch.address());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        copyOut(scratch, tokens, out, outOffset, outStride);
    }

    /** As {@link #q4_K} for a Q5_1 set. */
    static void q5_1(long set, int tiles, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                     int outOffset, int outStride) {
        try {
            Q5_1_SET.invokeExact(set, (long) tiles, (long) tokens, na.values(0, tiles * WeightTensor.TILE),
                    na.scales(0, tiles), na.sums(0, tiles), scratch.address());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        copyOut(scratch, tokens, out, outOffset, outStride);
    }

    /** As {@link #q4_K} for a IQ4_NL set. */
    static void iq4_nl(long set, int tiles, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                     int outOffset, int outStride) {
        try {
            IQ4_NL_SET.invokeExact(set, (long) tiles, (long) tokens, na.values(0, tiles * WeightTensor.TILE),
                    na.scales(0, tiles), na.sums(0, tiles), scratch.address());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        copyOut(scratch, tokens, out, outOffset, outStride);
    }

    /** As {@link #q4_K} for a Q2_K set. */
    static void q2_K(long set, int tiles, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                     int outOffset, int outStride) {
        try {
            Q2_K_SET.invokeExact(set, (long) tiles, (long) tokens, na.values(0, tiles * WeightTensor.TILE),
                    na.scales(0, tiles), na.sums(0, tiles), scratch.address());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        copyOut(scratch, tokens, out, outOffset, outStride);
    }

    /** As {@link #q4_K} for a Q3_K set. */
    static void q3_K(long set, int tiles, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                     int outOffset, int outStride) {
        try {
            Q3_K_SET.invokeExact(set, (long) tiles, (long) tokens, na.values(0, tiles * WeightTensor.TILE),
                    na.scales(0, tiles), na.sums(0, tiles), scratch.address());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        copyOut(scratch, tokens, out, outOffset, outStride);
    }

    /** As {@link #q8_0} for a Q4_K set in {@link KQuantLayout}'s layout ({@code kquant_vnni.c}). */
    static void q4_K(long set, int tiles, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                     int outOffset, int outStride) {
        try {
            Q4_K_SET.invokeExact(set, (long) tiles, (long) tokens, na.values(0, tiles * WeightTensor.TILE),
                    na.scales(0, tiles), na.sums(0, tiles), scratch.address());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        copyOut(scratch, tokens, out, outOffset, outStride);
    }

    /** As {@link #q4_K} for a Q5_K set. */
    static void q5_K(long set, int tiles, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                     int outOffset, int outStride) {
        try {
            Q5_K_SET.invokeExact(set, (long) tiles, (long) tokens, na.values(0, tiles * WeightTensor.TILE),
                    na.scales(0, tiles), na.sums(0, tiles), scratch.address());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        copyOut(scratch, tokens, out, outOffset, outStride);
    }

    /** As {@link #q4_K} for a Q6_K set. */
    static void q6_K(long set, int tiles, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                     int outOffset, int outStride) {
        try {
            Q6_K_SET.invokeExact(set, (long) tiles, (long) tokens, na.values(0, tiles * WeightTensor.TILE),
                    na.scales(0, tiles), na.sums(0, tiles), scratch.address());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        copyOut(scratch, tokens, out, outOffset, outStride);
    }

    /** As {@link #q8_0} for an F16 set (the Java kernels' layout) times float activations. */
    static void f16(long set, int tiles, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                    int outOffset, int outStride) {
        try {
            F16_SET.invokeExact(set, (long) tiles, (long) tokens, na.floats(), scratch.address());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        copyOut(scratch, tokens, out, outOffset, outStride);
    }

    private static void copyOut(MemorySegment scratch, int tokens, float[] out, int outOffset, int outStride) {
        for (int t = 0; t < tokens; t++) {
            MemorySegment.copy(scratch, ValueLayout.JAVA_FLOAT, 4L * t * VnniLayout.SET_ROWS, out,
                    outOffset + t * outStride, VnniLayout.SET_ROWS);
        }
    }

    /** For start-up logs: which kernels serve the quantized formats, and why. */
    public static String describe() {
        return ROUTE.description();
    }

    /** Fails with the reason when the native kernels were asked for ({@code native}) and cannot run. */
    static void requireUsable() {
        if (ROUTE.forcedButMissing()) {
            throw new IllegalStateException(ROUTE.description());
        }
    }

    private static Route decide() {
        String asked = choice();
        if (asked.equals("java")) {
            return Route.java("Java kernels (" + PROPERTY + "=java)", false);
        }
        boolean forced = asked.equals("native");
        String missing = unusableReason();
        MethodHandle[] handles = null;
        if (missing == null) {
            try {
                handles = bind();
            } catch (RuntimeException | LinkageError e) {
                missing = "the native kernels did not load: " + e;
            }
        }
        if (handles == null) {
            String why = forced ? PROPERTY + "=native, but " + missing : "Java kernels (" + missing + ")";
            return Route.java(why, forced);
        }
        return new Route(handles[0], handles[1], handles[2], handles[3], handles[4], handles[5], handles[6],
                handles[7], handles[8], handles[9], handles[10], handles[11],
                "native AVX512-VNNI kernels for Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL and Q2_K-Q6_K, AVX-512 for F16 ("
                        + PROPERTY + "=" + asked + ")", false);
    }

    private static String choice() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            value = System.getenv("CONTINUUM_CPU_KERNELS");
        }
        if (value == null || value.isBlank()) {
            return "auto";
        }
        String v = value.strip().toLowerCase(Locale.ROOT);
        if (!v.equals("auto") && !v.equals("java") && !v.equals("native")) {
            throw new IllegalArgumentException(PROPERTY + " must be auto, java or native, got '" + value + "'");
        }
        return v;
    }

    /** Why the native layout cannot serve in this JVM before even loading the library, or null. */
    private static String unusableReason() {
        String arch = System.getProperty("os.arch", "");
        if (!(arch.equals("amd64") || arch.equals("x86_64"))
                || !System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return "no native kernels for " + System.getProperty("os.name") + " " + arch;
        }
        if (!VectorSupport.ENABLED || Interleaving.SET_ROWS != 64) {
            return "the native layout needs 512-bit vector kernels, this JVM runs " + VectorSupport.describe();
        }
        return null;
    }

    private static MethodHandle[] bind() {
        Path library = locate();
        Linker linker = Linker.nativeLinker();
        SymbolLookup lib = SymbolLookup.libraryLookup(library, Arena.global());
        int abi = (int) call(linker.downcallHandle(lib.findOrThrow("continuum_abi_version"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT)));
        if (abi != ABI_VERSION) {
            throw new IllegalStateException(library + " implements ABI " + abi + ", this build needs " + ABI_VERSION);
        }
        int features = (int) call(linker.downcallHandle(lib.findOrThrow("continuum_cpu_features"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT)));
        if ((features & FEATURE_AVX512_VNNI) == 0) {
            throw new IllegalStateException("this CPU lacks AVX512-VNNI (with AVX512 F/BW/VL)");
        }
        ValueLayout.OfLong j = ValueLayout.JAVA_LONG;
        FunctionDescriptor set = FunctionDescriptor.ofVoid(j, j, j, j, j, j, j);
        return new MethodHandle[] {
            linker.downcallHandle(lib.findOrThrow("continuum_q8_0_vnni_set"), set, Linker.Option.critical(false)),
            linker.downcallHandle(lib.findOrThrow("continuum_q4_0_vnni_set"), set, Linker.Option.critical(false)),
            linker.downcallHandle(lib.findOrThrow("continuum_f16_set"), FunctionDescriptor.ofVoid(j, j, j, j, j),
                    Linker.Option.critical(false)),
            linker.downcallHandle(lib.findOrThrow("continuum_q4_1_vnni_set"), set, Linker.Option.critical(false)),
            linker.downcallHandle(lib.findOrThrow("continuum_q5_0_vnni_set"), set, Linker.Option.critical(false)),
            linker.downcallHandle(lib.findOrThrow("continuum_q5_1_vnni_set"), set, Linker.Option.critical(false)),
            linker.downcallHandle(lib.findOrThrow("continuum_iq4_nl_vnni_set"), set, Linker.Option.critical(false)),
            linker.downcallHandle(lib.findOrThrow("continuum_q2_k_vnni_set"), set, Linker.Option.critical(false)),
            linker.downcallHandle(lib.findOrThrow("continuum_q3_k_vnni_set"), set, Linker.Option.critical(false)),
            linker.downcallHandle(lib.findOrThrow("continuum_q4_k_vnni_set"), set, Linker.Option.critical(false)),
            linker.downcallHandle(lib.findOrThrow("continuum_q5_k_vnni_set"), set, Linker.Option.critical(false)),
            linker.downcallHandle(lib.findOrThrow("continuum_q6_k_vnni_set"), set, Linker.Option.critical(false)),
        };
    }

    private static Object call(MethodHandle h) {
        try {
            return h.invoke();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** The library's path: the property, the build tree's file, or a copy extracted from the jar. */
    private static Path locate() {
        String configured = System.getProperty(LIBRARY_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        URL url = NativeCpuKernels.class.getResource(RESOURCE);
        if (url == null) {
            throw new IllegalStateException("the jar has no native library (" + RESOURCE
                    + "): it was built without gcc");
        }
        try {
            if (url.getProtocol().equals("file")) {
                return Path.of(url.toURI());
            }
            Path copy = Files.createTempFile("libcontinuum_cpu", ".so");
            copy.toFile().deleteOnExit();
            try (InputStream in = url.openStream()) {
                Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
            }
            return copy;
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("cannot extract " + RESOURCE + " into " + System.getProperty(
                    "java.io.tmpdir") + ": " + e.getMessage(), e);
        }
    }
}
