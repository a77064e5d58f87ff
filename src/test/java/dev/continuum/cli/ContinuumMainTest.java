package dev.continuum.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Which command lines start the server, and with which {@code serve} options. */
class ContinuumMainTest {
    @Test
    void serveIsTheDefault() {
        // No arguments at all: what the images' entrypoint and `./continuum` alone run.
        assertArrayEquals(new String[0], ContinuumMain.serveArguments());
        assertArrayEquals(new String[0], ContinuumMain.serveArguments("serve"));
        assertArrayEquals(new String[]{"--port", "9"}, ContinuumMain.serveArguments("serve", "--port", "9"));
        assertArrayEquals(new String[]{"--model", "dummy:tiny"}, ContinuumMain.serveArguments("--model", "dummy:tiny"));
        assertArrayEquals(new String[]{"-Dcontinuum.threads=1"}, ContinuumMain.serveArguments("-Dcontinuum.threads=1"));
    }

    @Test
    void otherSubcommandsAndTheRootsOwnOptionsDoNotServe() {
        assertNull(ContinuumMain.serveArguments("generate", "--model", "dummy:tiny"));
        assertNull(ContinuumMain.serveArguments("bench"));
        assertNull(ContinuumMain.serveArguments("--help"));
        assertNull(ContinuumMain.serveArguments("-V"));
    }
}
