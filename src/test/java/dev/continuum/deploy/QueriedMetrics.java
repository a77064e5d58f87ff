package dev.continuum.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names the alert rules and the Grafana dashboard query. Names are taken as written
 * ({@code continuum_time_to_first_token_seconds_bucket}, {@code continuum_generation_tokens_total}): those are
 * the sample names of a Prometheus scrape, so each must appear verbatim there, suffix included. Stripping
 * {@code _bucket}/{@code _total} instead would let a query of a counter's {@code _bucket} pass unnoticed.
 * Digits count as name characters: {@code continuum_e2e_request_latency_seconds}.
 */
final class QueriedMetrics {
    private static final Pattern NAME = Pattern.compile("\\b(?:continuum_[a-z0-9_]+|http_server_requests_[a-z0-9_]+)");

    private QueriedMetrics() {
    }

    static Set<String> inAlertRules(Path rules) throws IOException {
        Set<String> names = new TreeSet<>();
        for (JsonNode group : StrictYaml.tree(rules).path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                names.addAll(in(rule.path("expr").asText()));
            }
        }
        return names;
    }

    static Set<String> inDashboard(Path dashboard) throws IOException {
        Set<String> names = new TreeSet<>();
        for (JsonNode panel : new ObjectMapper().readTree(dashboard.toFile()).path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                names.addAll(in(target.path("expr").asText()));
            }
        }
        return names;
    }

    static Set<String> in(String promql) {
        Set<String> names = new TreeSet<>();
        Matcher m = NAME.matcher(promql);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    /** Only the families whose name starts with {@code prefix}, with their HELP and TYPE lines. */
    static String familiesStartingWith(String scrape, String prefix) {
        StringBuilder kept = new StringBuilder();
        scrape.lines().filter(l -> {
            String name = l.startsWith("#") ? (l.split(" ").length > 2 ? l.split(" ")[2] : "") : l;
            return name.startsWith(prefix);
        }).forEach(l -> kept.append(l).append('\n'));
        return kept.toString();
    }

    /** The sample names of a text-format scrape: each line's name before its labels or value. */
    static Set<String> inScrape(String scrape) {
        Set<String> names = new TreeSet<>();
        scrape.lines().filter(l -> !l.isBlank() && !l.startsWith("#"))
                .forEach(l -> names.add(l.split("[{ ]", 2)[0]));
        return names;
    }
}
