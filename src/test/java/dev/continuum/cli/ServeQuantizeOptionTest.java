package dev.continuum.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code serve --quantize} becomes the {@code continuum.quantize} property the server's config reads. */
class ServeQuantizeOptionTest {
    @Test
    void theOptionBecomesTheConfigProperty() {
        String before = System.getProperty("continuum.quantize");
        try {
            ServeCommand serve = new ServeCommand();
            new CommandLine(serve).parseArgs("--quantize", "int4:128");
            serve.applyAsSystemProperties();
            assertEquals("int4:128", System.getProperty("continuum.quantize"));
        } finally {
            if (before == null) {
                System.clearProperty("continuum.quantize");
            } else {
                System.setProperty("continuum.quantize", before);
            }
        }
    }
}
