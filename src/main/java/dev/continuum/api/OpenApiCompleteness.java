package dev.continuum.api;

import io.quarkus.smallrye.openapi.OpenApiFilter;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.PathItem;
import org.eclipse.microprofile.openapi.models.responses.APIResponses;

import java.util.Map;

/**
 * Completes the operations Quarkus derives from the JAX-RS resources so the published document lints clean: each
 * gets an operation id (from its path when the resource names none) and the error responses every endpoint can
 * give (400 for a bad body, 404 for another model, 503 while loading), all in OpenAI's error shape.
 */
@OpenApiFilter(OpenApiFilter.RunStage.RUNTIME_STARTUP)
public class OpenApiCompleteness implements OASFilter {
    private static final String ERROR = "#/components/responses/Error";

    @Override
    public void filterOpenAPI(OpenAPI openAPI) {
        if (openAPI.getPaths() == null || openAPI.getPaths().getPathItems() == null) {
            return;
        }
        for (Map.Entry<String, PathItem> path : openAPI.getPaths().getPathItems().entrySet()) {
            Map<PathItem.HttpMethod, Operation> ops = path.getValue().getOperations();
            if (ops == null) {
                continue;
            }
            for (Map.Entry<PathItem.HttpMethod, Operation> op : ops.entrySet()) {
                complete(path.getKey(), op.getKey(), op.getValue());
            }
        }
    }

    private static void complete(String path, PathItem.HttpMethod method, Operation op) {
        if (op.getOperationId() == null) {
            op.setOperationId(operationId(path, method));
        }
        APIResponses responses = op.getResponses();
        if (responses == null) {
            responses = OASFactory.createAPIResponses();
            op.setResponses(responses);
        }
        boolean has4xx = responses.getAPIResponses() != null
                && responses.getAPIResponses().keySet().stream().anyMatch(k -> k.startsWith("4"));
        if (!has4xx) {
            for (String status : new String[]{"400", "404", "503"}) {
                responses.addAPIResponse(status, OASFactory.createAPIResponse().ref(ERROR));
            }
        }
    }

    /** {@code POST /tokenize} -> {@code postTokenize}; path parameters drop out. */
    private static String operationId(String path, PathItem.HttpMethod method) {
        StringBuilder id = new StringBuilder(method.name().toLowerCase());
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.startsWith("{")) {
                continue;
            }
            for (String word : part.split("[^A-Za-z0-9]+")) {
                if (!word.isEmpty()) {
                    id.append(Character.toUpperCase(word.charAt(0))).append(word.substring(1));
                }
            }
        }
        return id.toString();
    }
}
