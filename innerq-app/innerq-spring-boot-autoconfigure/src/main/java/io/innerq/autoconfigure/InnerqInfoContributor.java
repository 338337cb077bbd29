package io.innerq.autoconfigure;

import io.innerq.serving.InnerqEngine;
import org.springframework.boot.actuate.info.Info;
import org.springframework.boot.actuate.info.InfoContributor;

import java.util.LinkedHashMap;

/** {@code innerq} in {@code /actuator/info}: the model, the backend and the KV cache mode. */
final class InnerqInfoContributor implements InfoContributor {

    private final InnerqEngine engine;

    InnerqInfoContributor(InnerqEngine engine) {
        this.engine = engine;
    }

    @Override
    public void contribute(Info.Builder builder) {
        var config = engine.model().config();
        var mode = engine.settings().defaultKvMode();
        var info = new LinkedHashMap<String, Object>();
        info.put("model", engine.modelId());
        info.put("name", engine.model().name());
        info.put("path", engine.model().file().map(f -> f.toAbsolutePath().normalize().toString())
                .orElse("embedded"));
        info.put("contextLength", config.contextLength());
        info.put("chatTemplate", engine.model().chatTemplate().getClass().getSimpleName());
        info.put("backend", engine.backendName());
        info.put("concurrency", engine.settings().concurrency());
        info.put("threadsPerSlot", engine.settings().threadsPerSlot());
        info.put("kvCacheMode", mode.name());
        info.put("kvCache", mode.describe(config.headDim()));
        info.put("kvBitsPerElement", mode.bitsPerElement(config.headDim()));
        info.put("kvBudgetBytes", engine.kvBudgetBytes());
        builder.withDetail("innerq", info);
    }
}
