package dev.continuum.server;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which browser origins may call the API ({@code continuum.cors-origins}): none by default, so a web page on
 * another origin cannot use a server it happens to reach (a developer's localhost, an internal address) unless
 * the operator names that page's origin, or {@code *}.
 */
public final class CorsPolicy {
    /** What a preflight's answer allows. */
    public static final String METHODS = "GET, POST, OPTIONS";
    public static final String DEFAULT_HEADERS = "Authorization, Content-Type";
    public static final String MAX_AGE_SECONDS = "600";

    private final Set<String> origins;
    private final boolean any;

    public CorsPolicy(Optional<List<String>> configured) {
        this.origins = Set.copyOf(configured.orElse(List.of()).stream().map(String::strip)
                .filter(o -> !o.isEmpty()).map(CorsPolicy::withoutTrailingSlash).toList());
        this.any = origins.contains("*");
    }

    public boolean allows(String origin) {
        return origin != null && (any || origins.contains(withoutTrailingSlash(origin)));
    }

    private static String withoutTrailingSlash(String origin) {
        return origin.endsWith("/") ? origin.substring(0, origin.length() - 1) : origin;
    }
}
