package dev.continuum;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Temporary stand-in. */
public final class SharedTestData {
    public static Path dir() {
        return Path.of(System.getProperty("test.shared.dir", "../shared"));
    }

    public static Path require(String rel) {
        Path p = dir().resolve(rel);
        if (!Files.exists(p)) {
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("missing " + p);
            }
            Assumptions.assumeTrue(false, "missing " + p);
        }
        return p;
    }
}
