package dev.continuum.tensor;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gate runs the kernels at the width this JVM was asked for, and every species follows it. The build's
 * {@code vector-128} execution sets {@code continuum.test.expectedFloatLanes=4} next to
 * {@code -Dcontinuum.vector.bits=128}: if the forced width were lost (the flag dropped from its argLine, or the
 * gate ignoring it), that execution would fail here instead of quietly testing the wide path a second time.
 */
class VectorWidthTest {
    private static final String EXPECTED_LANES_PROPERTY = "continuum.test.expectedFloatLanes";

    @Test
    void theGateRunsAtTheWidthThisJvmWasAskedFor() {
        String expected = System.getProperty(EXPECTED_LANES_PROPERTY);
        if (expected != null) {
            assertEquals(Integer.parseInt(expected), VectorSupport.floatLanes(),
                    "this test run expects " + expected + " float lanes (" + EXPECTED_LANES_PROPERTY + "), "
                            + VectorSupport.BITS_PROPERTY + "=" + System.getProperty(VectorSupport.BITS_PROPERTY));
        }
        if (Boolean.getBoolean(VectorSupport.DISABLE_PROPERTY)) {
            assertEquals(0, VectorSupport.floatLanes());
            assertEquals("scalar kernels", VectorSupport.describe());
            return;
        }
        String forced = System.getProperty(VectorSupport.BITS_PROPERTY);
        int bits = forced != null ? Integer.parseInt(forced.strip()) : FloatVector.SPECIES_PREFERRED.vectorBitSize();
        int lanes = bits / Float.SIZE;
        assertEquals(lanes == 4 || lanes == 8 || lanes == 16 ? lanes : 0, VectorSupport.floatLanes(),
                "float lanes at " + bits + " bits");
        assertTrue(VectorSupport.enabled(), "the JVM running the tests has the Vector API");
        assertEquals(bits + "-bit floats", VectorSupport.describe().replace("Vector API, ", ""));
    }

    @Test
    void everySpeciesFollowsTheGatesWidth() {
        int lanes = VectorSupport.floatLanes();
        assertEquals(lanes, VectorShapes.FLOAT.length());
        assertEquals(VectorShapes.FLOAT.vectorShape(), VectorShapes.INT.vectorShape(), "ints as wide as floats");
        assertEquals(lanes, VectorShapes.SHORT.length(), "one short per float lane");
        assertEquals(2 * lanes, VectorShapes.SHORT_WIDE.length());
        assertEquals(4 * lanes, Interleaving.SET_ROWS, "an interleaved set is four float vectors of rows");
        if (lanes == 4) {
            // 32-bit byte vectors do not exist: the byte kernels load two float vectors' worth at a time.
            assertEquals(null, VectorShapes.BYTE);
            assertEquals(8, VectorShapes.BYTE_PAIR.length());
        } else {
            assertEquals(lanes, VectorShapes.BYTE.length(), "one byte per float lane");
        }
    }

    @Test
    void forcedWidthAcceptsOnlyTheThreeVectorWidths() {
        assertEquals(0, VectorSupport.Forced.parse(null));
        assertEquals(0, VectorSupport.Forced.parse(""));
        assertEquals(128, VectorSupport.Forced.parse("128"));
        assertEquals(256, VectorSupport.Forced.parse(" 256 "));
        assertEquals(512, VectorSupport.Forced.parse("512"));
        for (String bad : new String[] {"64", "1024", "wide", "128bits", "-128"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> VectorSupport.Forced.parse(bad), bad);
            assertTrue(e.getMessage().contains(VectorSupport.BITS_PROPERTY) && e.getMessage().contains(bad),
                    e.getMessage());
        }
    }
}
