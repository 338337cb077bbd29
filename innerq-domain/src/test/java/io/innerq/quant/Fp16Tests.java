package io.innerq.quant;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class Fp16Tests {

    @Test
    void ceilAndFloorBracketEveryFloatByAdjacentHalves() {
        var random = new SplittableRandom(1);
        for (int i = 0; i < 20_000; i++) {
            float x = (float) ((random.nextDouble() * 2 - 1) * Math.pow(10, random.nextInt(-9, 5)));
            float up = Fp16.toFloat(Fp16.ceil(x));
            float down = Fp16.toFloat(Fp16.floor(x));
            assertThat(up).as("ceil(%s)", x).isGreaterThanOrEqualTo(x);
            assertThat(down).as("floor(%s)", x).isLessThanOrEqualTo(x);
            if (up != x) {
                // nothing representable between x and ceil(x): the next fp16 down is below x
                assertThat(Fp16.toFloat(Fp16.nextDown(Fp16.ceil(x)))).isLessThan(x);
            }
            if (down != x) {
                assertThat(Fp16.toFloat(Fp16.nextUp(Fp16.floor(x)))).isGreaterThan(x);
            }
        }
    }

    @Test
    void exactValuesAndSignedZerosStay() {
        assertThat(Fp16.toFloat(Fp16.ceil(0.5f))).isEqualTo(0.5f);
        assertThat(Fp16.toFloat(Fp16.floor(-3f))).isEqualTo(-3f);
        assertThat(Fp16.toFloat(Fp16.ceil(1e-9f))).isEqualTo(Float.float16ToFloat((short) 1)); // smallest subnormal
        assertThat(Fp16.toFloat(Fp16.floor(-1e-9f))).isEqualTo(-Float.float16ToFloat((short) 1));
        assertThat(Fp16.toFloat(Fp16.ceil(Fp16.MAX))).isEqualTo(Fp16.MAX);
    }
}
