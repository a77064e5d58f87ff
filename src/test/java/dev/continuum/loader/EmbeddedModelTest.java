package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;
import dev.continuum.server.ContinuumConfig;
import io.smallrye.config.WithDefault;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The model shipped in the jar: it is the default everywhere the server reads one, its bytes are the ones its
 * NOTICE credits, and it loads as the real stories260K (EmbeddedModelSharedCopyTest compares it with ../shared,
 * DefaultModelTest serves it and checks llama.cpp's greedy text).
 */
class EmbeddedModelTest {
    static final String SPEC = "embedded:stories260K";

    @Test
    void theServerDefaultsToTheEmbeddedModel() throws Exception {
        assertEquals(SPEC, ContinuumConfig.class.getMethod("model").getAnnotation(WithDefault.class).value(),
                "ContinuumConfig's default");
        Properties props = new Properties();
        try (InputStream in = resource("application.properties")) {
            props.load(in);
        }
        assertEquals(SPEC, props.getProperty("continuum.model"), "application.properties' default");
    }

    @Test
    void loadsAsStories260K() {
        try (LoadedModel m = ModelLoader.load(SPEC, null)) {
            assertEquals("stories260K", m.name(), "the name it is served under");
            assertEquals(64, m.config().dim());
            assertEquals(5, m.config().layers());
            assertEquals(512, m.config().vocabSize());
            assertEquals(512, m.config().contextLength());
            assertEquals(m.config().vocabSize(), m.tokenizer().vocabSize());
            assertTrue(m.weights().layers()[0].wq().data().isNative(), "off-heap, not a heap array");
        }
    }

    @Test
    void theNoticeCreditsTheseBytes() throws IOException {
        String notice;
        try (InputStream in = resource(EmbeddedModelLoader.DIRECTORY + "NOTICE")) {
            notice = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(notice.contains("Karpathy") && notice.contains("MIT License"), "credit and licence");
        Matcher sha = Pattern.compile("sha256 ([0-9a-f]{64})").matcher(notice);
        assertTrue(sha.find(), "the NOTICE records the file's sha256");
        assertEquals(sha.group(1), sha256(EmbeddedModelLoader.resource("stories260K")));
    }

    @Test
    void anUnknownEmbeddedModelNamesTheOnesThereAre() {
        var e = assertThrows(ModelFormatException.class, () -> ModelLoader.load("embedded:stories15M", null));
        assertTrue(e.getMessage().contains("embedded:stories15M") && e.getMessage().contains("stories260K"),
                e.getMessage());
        var traversal = assertThrows(ModelFormatException.class, () -> ModelLoader.load("embedded:../NOTICE", null));
        assertTrue(traversal.getMessage().contains("no such embedded model"), traversal.getMessage());
    }

    static String sha256(String resource) throws IOException {
        try (InputStream in = resource(resource)) {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(in.readAllBytes()));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static InputStream resource(String name) {
        InputStream in = EmbeddedModelTest.class.getClassLoader().getResourceAsStream(name);
        assertNotNull(in, name + " is on the class path");
        return in;
    }
}
