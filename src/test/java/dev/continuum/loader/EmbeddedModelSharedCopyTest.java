package dev.continuum.loader;

import dev.continuum.IntegrationTest;
import dev.continuum.SharedTestData;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The jar's stories260K is byte for byte the shared test model the reference outputs were made from. */
@IntegrationTest
class EmbeddedModelSharedCopyTest {
    @Test
    void theResourceIsTheSharedFile() throws Exception {
        byte[] shared = Files.readAllBytes(SharedTestData.require("models/stories260K.gguf"));
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(shared));
        assertEquals(expected, EmbeddedModelTest.sha256(EmbeddedModelLoader.resource("stories260K")));
    }
}
