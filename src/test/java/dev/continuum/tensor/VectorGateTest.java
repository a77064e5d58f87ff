package dev.continuum.tensor;

import dev.continuum.ChildJvm;
import dev.continuum.IntegrationTest;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gate's decision in fresh JVMs, one per setting, since it is made once per JVM: the module missing, the
 * scalar kernels forced, a machine whose vectors are 128 bits (what AArch64 NEON has; {@code -XX:MaxVectorSize=16}
 * makes this machine one), and the forced width's errors, which must stop the JVM rather than run another width.
 */
@IntegrationTest
class VectorGateTest {
    /** With the module: every flag a Continuum JVM starts with. */
    private static final String MODULE = ChildJvm.SERVER_OPTIONS;

    private static ChildJvm.Result probe(String... jvmOptions) throws Exception {
        return ChildJvm.run(List.of(jvmOptions), VectorGateProbe.class, List.of(), 60);
    }

    private static void assertReports(String expected, ChildJvm.Result r) {
        assertEquals(0, r.exitCode(), r.describe());
        assertEquals(List.of(expected), r.lines(), r.describe());
    }

    @Test
    void withoutTheModuleEveryKernelIsScalar() throws Exception {
        assertReports("lanes=0 scalar kernels", probe());
    }

    @Test
    void theDisableSwitchWinsOverTheModule() throws Exception {
        assertReports("lanes=0 scalar kernels", probe(MODULE, "-D" + VectorSupport.DISABLE_PROPERTY + "=true"));
    }

    @Test
    void aMachineWith128BitVectorsRunsTheVectorKernelsAtFourLanes() throws Exception {
        assertReports("lanes=4 Vector API, 128-bit floats", probe(MODULE, "-XX:MaxVectorSize=16"));
    }

    @Test
    void theForcedWidthNarrowsThePreferredOne() throws Exception {
        assertReports("lanes=4 Vector API, 128-bit floats", probe(MODULE, "-D" + VectorSupport.BITS_PROPERTY + "=128"));
        if (FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256) {
            assertReports("lanes=8 Vector API, 256-bit floats",
                    probe(MODULE, "-D" + VectorSupport.BITS_PROPERTY + "=256"));
        }
    }

    @Test
    void aForcedWidthWiderThanTheMachinesStopsTheJvm() throws Exception {
        ChildJvm.Result r = probe(MODULE, "-XX:MaxVectorSize=16", "-D" + VectorSupport.BITS_PROPERTY + "=256");
        assertNotEquals(0, r.exitCode(), r.describe());
        assertTrue(r.err().contains(VectorSupport.BITS_PROPERTY + "=256 is wider than this machine's 128-bit vectors"),
                r.describe());
    }

    @Test
    void theLauncherStopsOnABadWidthWithItsMessageAlone() throws Exception {
        // The server and every subcommand start in ContinuumMain, which settles the gate first: one line, exit 2.
        ChildJvm.Result r = ChildJvm.run(List.of(MODULE, "-D" + VectorSupport.BITS_PROPERTY + "=96"),
                dev.continuum.cli.ContinuumMain.class, List.of("generate", "--model", "dummy:tiny", "--prompt", "x"),
                60);
        assertEquals(2, r.exitCode(), r.describe());
        // The JVM itself warns on stderr that an incubator module is in use; everything else is the one message.
        assertEquals(List.of("error: " + VectorSupport.BITS_PROPERTY + " must be 128, 256 or 512, got '96'"),
                r.err().lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")).toList(),
                r.describe());
        assertEquals("", r.out(), r.describe());
    }

    @Test
    void aMalformedForcedWidthStopsTheJvm() throws Exception {
        for (String bad : new String[] {"1024", "fast"}) {
            // Even without the module: a typo must not pass for "no Vector API here".
            for (boolean module : new boolean[] {true, false}) {
                ChildJvm.Result r = module ? probe(MODULE, "-D" + VectorSupport.BITS_PROPERTY + "=" + bad)
                        : probe("-D" + VectorSupport.BITS_PROPERTY + "=" + bad);
                assertNotEquals(0, r.exitCode(), r.describe());
                String message = VectorSupport.BITS_PROPERTY + " must be 128, 256 or 512, got '" + bad + "'";
                assertTrue(r.err().contains(message), r.describe());
            }
        }
    }
}
