package dev.continuum.tensor;

import dev.continuum.ChildJvm;
import dev.continuum.IntegrationTest;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The choice of CPU kernels, made once per JVM ({@link NativeCpuKernels}), forced each way in child JVMs: the Java
 * route with the native library present, the native route, and {@code auto}, must all print the same output bits
 * (the routes are bit-identical by contract), each JVM says which route it took, and impossible or malformed
 * choices fail with their reason. On a machine without AVX512-VNNI or gcc only the Java half runs, except under
 * {@code CI=true}, where the native route must be available (CI machines have both).
 */
@IntegrationTest
class KernelRouteChoiceTest {
    private static ChildJvm.Result probe(String... options) throws Exception {
        List<String> jvm = new java.util.ArrayList<>(List.of(ChildJvm.SERVER_OPTIONS));
        jvm.addAll(List.of(options));
        return ChildJvm.run(jvm, KernelRouteProbe.class, List.of(), 120);
    }

    private static List<String> hashes(ChildJvm.Result r) {
        assertEquals(0, r.exitCode(), r::describe);
        return r.lines().stream().filter(l -> l.startsWith("Q") || l.startsWith("F16")).toList();
    }

    @Test
    void everyRouteComputesTheSameBits() throws Exception {
        ChildJvm.Result java = probe("-Dcontinuum.cpu-kernels=java");
        assertTrue(java.out().contains("route: Java kernels (continuum.cpu-kernels=java)"), java::describe);
        assertEquals(27, hashes(java).size(), java::describe);

        ChildJvm.Result auto = probe();
        boolean nativeHere = auto.out().contains("route: native AVX512-VNNI");
        if ("true".equals(System.getenv("CI"))) {
            assertTrue(nativeHere, () -> "CI must take the native route: " + auto.describe());
        }
        assertEquals(hashes(java), hashes(auto), () -> "auto against java:\n" + auto.describe());
        if (nativeHere) {
            ChildJvm.Result forced = probe("-Dcontinuum.cpu-kernels=native");
            assertTrue(forced.out().contains("route: native AVX512-VNNI kernels for Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL and Q2_K-Q6_K, AVX-512 for F16"), forced::describe);
            assertEquals(hashes(java), hashes(forced), forced::describe);
        }
    }

    @Test
    void nativeWhereItCannotRunFailsWithTheReason() throws Exception {
        // 256-bit vectors make sets of 32 rows; the native layout is made for 64.
        ChildJvm.Result r = probe("-Dcontinuum.cpu-kernels=native", "-Dcontinuum.vector.bits=256");
        assertNotEquals(0, r.exitCode(), r::describe);
        assertTrue(r.err().contains("continuum.cpu-kernels=native, but the native layout needs 512-bit vector kernels"),
                r::describe);
    }

    @Test
    void autoFallsBackToJavaWithTheReason() throws Exception {
        ChildJvm.Result r = probe("-Dcontinuum.vector.bits=256");
        assertTrue(r.out().contains("route: Java kernels (the native layout needs 512-bit vector kernels"),
                r::describe);
        assertEquals(27, hashes(r).size(), r::describe);
    }

    @Test
    void aMalformedChoiceIsRefused() throws Exception {
        ChildJvm.Result r = probe("-Dcontinuum.cpu-kernels=fast");
        assertNotEquals(0, r.exitCode(), r::describe);
        assertTrue(r.err().contains("continuum.cpu-kernels must be auto, java or native, got 'fast'"), r::describe);
    }
}
