package dev.continuum.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads YAML files, binding Kubernetes manifests to fabric8's model classes so that a misspelled or misplaced
 * field is an error. FAIL_ON_UNKNOWN_PROPERTIES alone does not do it: every fabric8 class has a
 * {@code @JsonAnySetter} that files unknown fields under {@code additionalProperties}, so the any-setters are
 * switched off too.
 */
final class StrictYaml {
    private static final ObjectMapper STRICT = new ObjectMapper(new YAMLFactory())
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
            .setAnnotationIntrospector(new JacksonAnnotationIntrospector() {
                @Override
                public Boolean hasAnySetter(Annotated a) {
                    return Boolean.FALSE;
                }
            });
    private static final ObjectMapper TREE = new ObjectMapper(new YAMLFactory());

    private StrictYaml() {
    }

    static <T> T read(Path file, Class<T> type) throws IOException {
        return STRICT.readValue(file.toFile(), type);
    }

    static <T> T convert(JsonNode node, Class<T> type) throws IOException {
        return STRICT.treeToValue(node, type);
    }

    static JsonNode tree(Path file) throws IOException {
        return TREE.readTree(file.toFile());
    }

    /** Every document of a (possibly multi-document) YAML file. */
    static List<JsonNode> documents(Path file) throws IOException {
        try (var it = TREE.readerFor(JsonNode.class).<JsonNode>readValues(file.toFile())) {
            return it.readAll().stream().filter(n -> n != null && !n.isNull() && !n.isMissingNode()).toList();
        }
    }
}
