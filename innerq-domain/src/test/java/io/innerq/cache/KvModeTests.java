package io.innerq.cache;

import io.innerq.quant.QuantMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class KvModeTests {

    @Test
    void everyNamedModeParsesBackFromItsName() {
        assertThat(KvMode.all()).extracting(KvMode::name).containsExactly("fp32", "fp16", "q8_0", "kivi-2", "kivi-4",
                "innerq-base", "innerq-small", "innerq-hybrid", "innerq-4");
        for (KvMode mode : KvMode.all()) {
            assertThat(KvMode.parse(mode.name())).isEqualTo(mode);
            assertThat(KvMode.parse(" " + mode.name().toUpperCase() + " ")).isEqualTo(mode);
        }
        assertThat(KvMode.parse("kivi-3")).isEqualTo(new KvMode.Kivi(3));
    }

    @Test
    void unknownNamesListTheChoices() {
        assertThatThrownBy(() -> KvMode.parse("q4_0")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'q4_0'").hasMessageContaining("innerq-hybrid").hasMessageContaining("innerq:k3,v2h");
        assertThatThrownBy(() -> KvMode.parse("kivi-5")).hasMessageContaining("2, 3, 4 or 8 bits");
    }

    @Test
    void presetsMatchTheSpecification() {
        assertThat(InnerqConfig.BASE).isEqualTo(new InnerqConfig(3, 3, QuantMode.SYMMETRIC, QuantMode.SYMMETRIC, 32, 32, 96, true));
        assertThat(InnerqConfig.SMALL.valueBits()).isEqualTo(2);
        assertThat(InnerqConfig.HYBRID.valueMode()).isEqualTo(QuantMode.HYBRID);
        assertThat(InnerqConfig.FOUR.keyBits()).isEqualTo(4);
        assertThat(InnerqConfig.HYBRID.spec()).isEqualTo("innerq:k3,v2h,g32,s32,r96,norm");
    }

    @Test
    void customConfigurationsReadWithDefaultsAndPrintCanonically() {
        var c = InnerqConfig.parse("innerq:v2h,k3");
        assertThat(c).isEqualTo(InnerqConfig.HYBRID);
        assertThat(c.name()).isEqualTo("innerq-hybrid");
        var custom = (InnerqConfig) KvMode.parse("innerq:k4a,v3,g16,s0,r64,nonorm");
        assertThat(custom).isEqualTo(new InnerqConfig(4, 3, QuantMode.ASYMMETRIC, QuantMode.SYMMETRIC, 16, 0, 64, false));
        assertThat(custom.name()).isEqualTo("innerq:k4a,v3,g16,s0,r64,nonorm");
        assertThat(KvMode.parse(custom.name())).isEqualTo(custom);
        assertThat(custom.toString()).isEqualTo(custom.name());
    }

    @ParameterizedTest
    @ValueSource(strings = {"innerq:k3", "innerq:k3,v5", "innerq:k3,v2,g24", "innerq:k3,v2,g512", "innerq:k3,v2,k4",
            "innerq:k3,v2x", "innerq:k3,v2,s-1", "innerq:k3,v2,,", "innerq:k3,v2,norm,nonorm", "innerq:k3,v2,zz", "innerq:"})
    void invalidConfigurationsSayWhatToWrite(String text) {
        assertThatThrownBy(() -> KvMode.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .satisfiesAnyOf(e -> assertThat(e).hasMessageContaining("innerq:k"),
                        e -> assertThat(e).hasMessageContaining("must be"),
                        e -> assertThat(e).hasMessageContaining("are 2, 3, 4 or 8 bits"));
    }

    @Test
    void bitsPerElementOutsideTheWindows() {
        assertThat(KvMode.FP32.bitsPerElement(128)).isEqualTo(32);
        assertThat(KvMode.FP16.bitsPerElement(128)).isEqualTo(16);
        assertThat(KvMode.Q8_0.bitsPerElement(128)).isEqualTo(8.5);
        assertThat(KvMode.Q8_0.bitsPerElement(8)).isEqualTo(10);
        assertThat(KvMode.KIVI_2.bitsPerElement(128)).isEqualTo(3);
        assertThat(KvMode.KIVI_4.bitsPerElement(128)).isEqualTo(5);
        assertThat(InnerqConfig.BASE.bitsPerElement(128)).isEqualTo(3.5);
        assertThat(InnerqConfig.SMALL.bitsPerElement(128)).isEqualTo(3);
        assertThat(InnerqConfig.HYBRID.bitsPerElement(128)).isEqualTo(3);
        assertThat(InnerqConfig.FOUR.bitsPerElement(128)).isEqualTo(4.5);
        // head_dim 8: a 3-bit key group of 8 codes fills one 32-bit word (4 bits each) plus an fp16 scale per 8
        assertThat(InnerqConfig.BASE.bitsPerElement(8)).isCloseTo((6 + 3.5) / 2, within(1e-12));
    }

    @Test
    void descriptionsSayWhenTheKeyGroupIsTheWholeHead() {
        assertThat(InnerqConfig.BASE.describe(8)).contains("head_dim 8 < 32: one key group of 8 channels per head");
        assertThat(InnerqConfig.BASE.describe(128)).doesNotContain("head_dim").contains("3.50 bits/element");
        assertThat(InnerqConfig.HYBRID.describe(64)).contains("hybrid").contains("zero points");
        assertThat(KvMode.Q8_0.describe(8)).contains("one group per head");
        assertThat(KvMode.KIVI_2.describe(128)).contains("128 most recent tokens");
        assertThatThrownBy(() -> InnerqConfig.BASE.describe(48)).hasMessageContaining("head_dim 48");
    }
}
