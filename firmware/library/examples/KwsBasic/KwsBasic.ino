// KwsBasic - the keyword spotter on an Arduino-class board. Replace read_microphone() with your
// board's I2S/PDM driver (16 kHz mono int16); detections are printed on Serial.
#include <kws_engine.h>

static kws_engine engine;
static int16_t block[320];

// Stand-in for a microphone driver: fills n samples, returns how many it wrote.
static size_t read_microphone(int16_t *pcm, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pcm[i] = 0;
    }
    return n;
}

void setup()
{
    Serial.begin(115200);
    if (kws_engine_init(&engine) != KWS_DETECTOR_OK) {
        Serial.println("kws_engine_init failed");
    }
}

void loop()
{
    kws_detection events[2];
    size_t count = 0;
    size_t n = read_microphone(block, sizeof(block) / sizeof(block[0]));
    kws_detector_process(&engine.detector, block, n, events, 2, &count);
    for (size_t i = 0; i < count; i++) {
        Serial.print(kws_engine_label(events[i].label_index));
        Serial.print(" at ");
        Serial.println((unsigned long)events[i].time_ms);
    }
}
