package dev.continuum.jmh;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The native route of {@link Int8DotBenchmark} (issue 18, measurements only): {@code src/test/native/int8dot/
 * q8_0_vnni.c}, compiled on demand with the machine's gcc into {@code target/int8dot/} and bound through FFM. One
 * downcall computes every row of the matrix for one token, in the reference's order ({@code q8_0_vnni_rows}) or
 * in llama.cpp's ({@code q8_0_vnni_rows_lanes}, float lanes per block, not bit-identical). It is a critical downcall with heap access, so the
 * activations and the output stay in their Java arrays (no copies per call); the weights are an off-heap segment.
 */
final class NativeVnniKernel {
    private static final Path SOURCE = Path.of("src/test/native/int8dot/q8_0_vnni.c");
    private static final Path LIBRARY = Path.of("target/int8dot/libq8_0_vnni.so");

    private final MethodHandle rows;

    private NativeVnniKernel(MethodHandle rows) {
        this.rows = rows;
    }

    /**
     * Builds (when the library is missing or older than its source) and binds the kernel; throws with the reason
     * the native case cannot run here (no gcc, no AVX512-VNNI), which JMH reports as that trial's failure.
     */
    static NativeVnniKernel load(Arena arena, boolean llamaOrder) {
        String flags = cpuFlags();
        if (!(" " + flags + " ").contains(" avx512_vnni ")) {
            throw new UnsupportedOperationException("vnni skipped: this CPU has no avx512_vnni (/proc/cpuinfo)");
        }
        build();
        Linker linker = Linker.nativeLinker();
        SymbolLookup lib = SymbolLookup.libraryLookup(LIBRARY.toAbsolutePath(), arena);
        MethodHandle supported = linker.downcallHandle(lib.findOrThrow("q8_0_vnni_supported"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
        try {
            if ((int) supported.invokeExact() == 0) {
                throw new UnsupportedOperationException("vnni skipped: the CPU lacks AVX512 F/BW/VL/VNNI");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
        MethodHandle rows = linker.downcallHandle(lib.findOrThrow(llamaOrder ? "q8_0_vnni_rows_lanes" : "q8_0_vnni_rows"),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS),
                Linker.Option.critical(true));
        return new NativeVnniKernel(rows);
    }

    /** Every row of {@code weights} (row-major Q8_0) times the quantized token, into {@code out}. */
    void multiply(MemorySegment weights, long rowCount, long cols, MemorySegment xq, MemorySegment dx,
                  MemorySegment xsum, MemorySegment out) {
        try {
            rows.invokeExact(weights, rowCount, cols, xq, dx, xsum, out);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private static String cpuFlags() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("flags")).findFirst().orElse("");
        } catch (IOException e) {
            return "";
        }
    }

    private static void build() {
        try {
            if (!Files.exists(SOURCE)) {
                throw new UnsupportedOperationException("vnni skipped: " + SOURCE.toAbsolutePath()
                        + " not found (run the benchmark from the project root)");
            }
            if (Files.exists(LIBRARY)
                    && Files.getLastModifiedTime(LIBRARY).compareTo(Files.getLastModifiedTime(SOURCE)) >= 0) {
                return;
            }
            Files.createDirectories(LIBRARY.getParent());
            // -ffp-contract=off: the scalar tail must not fuse the scale product into the FMA (bit-exact check).
            List<String> command = List.of("gcc", "-O3", "-march=native", "-ffp-contract=off", "-shared", "-fPIC",
                    "-o", LIBRARY.toString(), SOURCE.toString());
            Process gcc;
            try {
                gcc = new ProcessBuilder(command).redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new UnsupportedOperationException("vnni skipped: gcc not found (" + e.getMessage() + ")");
            }
            String log = new String(gcc.getInputStream().readAllBytes());
            if (gcc.waitFor() != 0) {
                throw new IllegalStateException("vnni: " + String.join(" ", command) + " failed:\n" + log);
            }
        } catch (IOException e) {
            throw new IllegalStateException("vnni: cannot build " + LIBRARY, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
