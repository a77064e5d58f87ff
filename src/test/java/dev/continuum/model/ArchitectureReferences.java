package dev.continuum.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertNotNull;

/** What the architecture tests share: their reference JSON, a greedy argmax, a byte search to corrupt a file. */
final class ArchitectureReferences {
    private ArchitectureReferences() {
    }

    /** {@code src/test/resources/reference/architectures/NAME.json}. */
    static JsonNode json(String name) throws IOException {
        String path = "/reference/architectures/" + name + ".json";
        try (InputStream in = ArchitectureReferences.class.getResourceAsStream(path)) {
            assertNotNull(in, path);
            return new ObjectMapper().readTree(in);
        }
    }

    /** The first of the largest of {@code logits[0..n)}. */
    static int argmax(float[] logits, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Where {@code v} first occurs in {@code b}, or -1. */
    static int indexOf(byte[] b, byte[] v) {
        outer:
        for (int i = 0; i + v.length <= b.length; i++) {
            for (int j = 0; j < v.length; j++) {
                if (b[i + j] != v[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
