package dev.continuum.cuda.kernels;

import dev.continuum.IntegrationTest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Build gates for src/main/cuda/continuum.cu: what ptxas says about every entry point (no spills, registers within
 * the budget its __launch_bounds__ sets, static shared memory within 48 KiB) on sm_90 (the shipped SASS) and
 * sm_80 (what the driver JIT makes of the shipped compute_80 PTX); the CPU shim's kernel list equals the PTX's
 * entry points; and the committed fatbin and PTX equal a rebuild.
 */
@IntegrationTest
class CudaKernelBuildGateTest {
    /** A kernel family's launch bounds (threads, min blocks per SM) and the register budget they imply. */
    record Budget(int threads, int minBlocks, int registers) {
    }

    // Register budget = 65536 / (threads * min blocks), as ptxas enforces it. Kept in step with the LB_* macros of
    // continuum.cu and the table in src/main/cuda/README.md; launchBoundsMatchTheBudgetTable checks the PTX.
    private static final Budget ELEMENTWISE = new Budget(256, 4, 64);
    private static final Budget ROW128 = new Budget(128, 8, 64);
    private static final Budget GEMV = new Budget(128, 4, 128);
    private static final Budget GEMM = new Budget(128, 4, 128);
    private static final Budget ATTENTION = new Budget(128, 8, 64);
    private static final int SHARED_LIMIT = 48 * 1024;

    static Budget budget(String kernel) {
        if (kernel.startsWith("embed_") || kernel.equals("quantize_q8") || kernel.equals("rope_kv_write")) {
            return ROW128;
        }
        if (kernel.equals("rmsnorm") || kernel.equals("add_bias") || kernel.equals("swiglu")) {
            return ELEMENTWISE;
        }
        if (kernel.startsWith("gemv_")) {
            return GEMV;
        }
        if (kernel.startsWith("gemm_")) {
            return GEMM;
        }
        if (kernel.startsWith("paged_attention")) {
            return ATTENTION;
        }
        throw new AssertionError("no register budget stated for kernel " + kernel + ": add it to the table");
    }

    /** ptxas -v figures of one entry point. */
    record Usage(int registers, int stack, int spillStores, int spillLoads, int sharedBytes) {
    }

    private static final Pattern ENTRY = Pattern.compile("Compiling entry function '(\\w+)' for '(\\w+)'");
    private static final Pattern PROPS = Pattern.compile("Function properties for (\\w+)");
    private static final Pattern FRAME =
            Pattern.compile("(\\d+) bytes stack frame, (\\d+) bytes spill stores, (\\d+) bytes spill loads");
    private static final Pattern USED = Pattern.compile("Used (\\d+) registers");
    private static final Pattern SMEM = Pattern.compile("(\\d+) bytes smem");

    static Map<String, Usage> parsePtxasVerbose(String out) {
        Map<String, int[]> acc = new LinkedHashMap<>();
        String entry = null;
        String props = null;
        for (String line : out.split("\n")) {
            Matcher m = ENTRY.matcher(line);
            if (m.find()) {
                entry = m.group(1);
                acc.put(entry, new int[] {-1, 0, 0, 0, 0});
                continue;
            }
            m = PROPS.matcher(line);
            if (m.find()) {
                props = m.group(1);
                continue;
            }
            m = FRAME.matcher(line);
            if (m.find() && props != null && props.equals(entry)) {
                int[] a = acc.get(entry);
                a[1] = Integer.parseInt(m.group(1));
                a[2] = Integer.parseInt(m.group(2));
                a[3] = Integer.parseInt(m.group(3));
                continue;
            }
            m = USED.matcher(line);
            if (m.find() && entry != null) {
                int[] a = acc.get(entry);
                a[0] = Integer.parseInt(m.group(1));
                Matcher s = SMEM.matcher(line);
                a[4] = s.find() ? Integer.parseInt(s.group(1)) : 0;
            }
        }
        Map<String, Usage> result = new TreeMap<>();
        acc.forEach((k, a) -> result.put(k, new Usage(a[0], a[1], a[2], a[3], a[4])));
        return result;
    }

    static TreeSet<String> ptxEntries(String ptx) {
        TreeSet<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(").matcher(ptx);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    static TreeSet<String> shimKernelList(String source) {
        int at = source.indexOf("#define CONTINUUM_KERNELS(X)");
        assertTrue(at >= 0, "continuum.cu defines no CONTINUUM_KERNELS(X) list");
        StringBuilder body = new StringBuilder();
        for (String line : source.substring(at).split("\n")) {
            body.append(line).append('\n');
            if (!line.stripTrailing().endsWith("\\")) {
                break;
            }
        }
        TreeSet<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("X\\((\\w+)\\)").matcher(body);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    private static void assertWithinBudgets(String arch, Map<String, Usage> usage) throws IOException {
        TreeSet<String> entries = ptxEntries(Files.readString(CudaTools.PTX));
        assertEquals(entries, new TreeSet<>(usage.keySet()), arch + ": ptxas compiled another set of entry points");
        List<String> problems = new ArrayList<>();
        StringBuilder table = new StringBuilder("kernel | regs (budget) | smem B | stack B | spills B (" + arch + ")\n");
        usage.forEach((kernel, u) -> {
            Budget b = budget(kernel);
            table.append(String.format("%-22s | %3d (%3d) | %5d | %3d | %d%n", kernel, u.registers(), b.registers(),
                    u.sharedBytes(), u.stack(), u.spillStores() + u.spillLoads()));
            if (u.registers() < 0) {
                problems.add(kernel + ": no register count in the ptxas output");
            }
            if (u.registers() > b.registers()) {
                problems.add(kernel + ": " + u.registers() + " registers > budget " + b.registers());
            }
            if (u.spillStores() != 0 || u.spillLoads() != 0) {
                problems.add(kernel + ": spills " + u.spillStores() + " B stored, " + u.spillLoads() + " B loaded");
            }
            if (u.sharedBytes() > SHARED_LIMIT) {
                problems.add(kernel + ": " + u.sharedBytes() + " B static shared memory > 48 KiB");
            }
        });
        System.out.print(table);
        assertTrue(problems.isEmpty(), arch + ":\n" + String.join("\n", problems) + "\n" + table);
    }

    @Test
    void sm90BuildHasNoSpillsAndStaysWithinBudgets() throws IOException {
        Path nvcc = CudaTools.require("nvcc");
        Path out = CudaTools.ROOT.resolve("target/cuda-gate");
        Files.createDirectories(out);
        String log = CudaTools.runOk(List.of(nvcc.toString(), "-cubin", "-arch=sm_90", "-Xptxas", "-v", "-o",
                out.resolve("continuum.sm_90.cubin").toString(), "src/main/cuda/continuum.cu"), 300);
        assertWithinBudgets("sm_90", parsePtxasVerbose(log));
    }

    @Test
    void compute80PtxHasNoSpillsAndStaysWithinBudgetsOnSm80() throws IOException {
        Path ptxas = CudaTools.require("ptxas");
        String log = CudaTools.runOk(List.of(ptxas.toString(), "-arch=sm_80", "-v", "-o",
                CudaTools.ROOT.resolve("target/cuda-gate-sm80.cubin").toString(), CudaTools.PTX.toString()), 300);
        assertWithinBudgets("sm_80", parsePtxasVerbose(log));
    }

    @Test
    void shimKernelListEqualsPtxEntries() throws IOException {
        TreeSet<String> listed = shimKernelList(Files.readString(CudaTools.KERNELS));
        TreeSet<String> entries = ptxEntries(Files.readString(CudaTools.PTX));
        assertTrue(entries.size() >= 38, "expected every ABI entry point in the PTX, found " + entries);
        assertEquals(entries, listed, "CONTINUUM_KERNELS(X) in continuum.cu must list exactly the PTX's .entry names");
    }

    @Test
    void launchBoundsMatchTheBudgetTable() throws IOException {
        String ptx = Files.readString(CudaTools.PTX);
        Matcher m = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^{]*)\\{").matcher(ptx);
        List<String> problems = new ArrayList<>();
        int seen = 0;
        while (m.find()) {
            seen++;
            String kernel = m.group(1);
            String directives = m.group(2);
            Budget b = budget(kernel);
            Matcher t = Pattern.compile("\\.maxntid\\s+(\\d+)").matcher(directives);
            Matcher n = Pattern.compile("\\.minnctapersm\\s+(\\d+)").matcher(directives);
            int threads = t.find() ? Integer.parseInt(t.group(1)) : -1;
            int blocks = n.find() ? Integer.parseInt(n.group(1)) : -1;
            if (threads != b.threads() || blocks != b.minBlocks()) {
                problems.add(kernel + ": __launch_bounds__(" + threads + ", " + blocks + ") in the PTX, table says ("
                        + b.threads() + ", " + b.minBlocks() + ")");
            }
            if (Math.min(255, 65536 / (b.threads() * b.minBlocks())) != b.registers()) {
                problems.add(kernel + ": budget " + b.registers() + " is not 65536 / (threads * min blocks)");
            }
        }
        assertTrue(seen >= 38, "found only " + seen + " entry points in " + CudaTools.PTX);
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void committedBinariesEqualARebuild() {
        CudaTools.require("nvcc");
        Path bash = CudaTools.require("bash");
        CudaTools.Result r = CudaTools.run(List.of(bash.toString(), CudaTools.BUILD_SH.toString(), "--check"),
                Map.of(), 300);
        assertEquals(0, r.exit(), "committed CUDA binaries are stale:\n" + r.output());
    }
}
