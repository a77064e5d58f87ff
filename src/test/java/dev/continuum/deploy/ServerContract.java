package dev.continuum.deploy;

import dev.continuum.server.ContinuumConfig;
import dev.continuum.server.HealthResource;
import jakarta.ws.rs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;

/**
 * What the deployment files must agree with, read from the server itself rather than restated: the health
 * path from HealthResource, the HTTP port from application.properties, the configuration properties from
 * ContinuumConfig.
 */
final class ServerContract {
    private ServerContract() {
    }

    static String healthPath() {
        return HealthResource.class.getAnnotation(Path.class).value();
    }

    static int httpPort() throws IOException {
        Properties p = new Properties();
        try (InputStream in = ServerContract.class.getResourceAsStream("/application.properties")) {
            p.load(in);
        }
        return Integer.parseInt(p.getProperty("quarkus.http.port"));
    }

    /**
     * The {@code continuum.*} property an environment variable sets ({@code CONTINUUM_MAX_NUM_SEQS} ->
     * {@code continuum.max-num-seqs}), if ContinuumConfig has it. ContinuumConfig has no nested groups, so every
     * underscore after the prefix is a dash.
     */
    static Optional<String> continuumProperty(String envName) {
        if (!envName.startsWith("CONTINUUM_")) {
            return Optional.empty();
        }
        String kebab = envName.substring("CONTINUUM_".length()).toLowerCase(Locale.ROOT).replace('_', '-');
        boolean known = Arrays.stream(ContinuumConfig.class.getDeclaredMethods())
                .anyMatch(m -> m.getParameterCount() == 0 && kebab(m.getName()).equals(kebab));
        return known ? Optional.of("continuum." + kebab) : Optional.empty();
    }

    /** SmallRye Config's naming for interface mappings: maxNumSeqs -> max-num-seqs. */
    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }
}
