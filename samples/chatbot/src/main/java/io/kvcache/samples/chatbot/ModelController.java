package io.kvcache.samples.chatbot;

import io.kvcache.spring.actuate.KvcacheEndpoint;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /api/model}: the model, policy and backend lines of {@code /actuator/kvcache}, which
 * the page shows in its header. The full endpoint also counts conversations and bytes across all
 * users, so it stays behind the operator login; this part describes only the running model.
 */
@RestController
class ModelController {
    private final ObjectProvider<KvcacheEndpoint> endpoint;

    /** The endpoint bean exists only while {@code kvcache} is exposed; without it this answers 404. */
    ModelController(ObjectProvider<KvcacheEndpoint> endpoint) {
        this.endpoint = endpoint;
    }

    @GetMapping("/api/model")
    Map<String, Object> model() {
        KvcacheEndpoint kvcache = endpoint.getIfAvailable();
        if (kvcache == null) {
            throw new ResponseStatusException(HttpStatus.NOT_FOUND, "the kvcache actuator endpoint is not exposed");
        }
        Map<String, Object> all = kvcache.kvcache();
        Map<String, Object> out = new LinkedHashMap<>();
        for (String key : new String[] {"model", "policy", "backend"}) {
            out.put(key, all.get(key));
        }
        return out;
    }
}
