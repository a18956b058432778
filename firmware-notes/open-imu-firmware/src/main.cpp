// Reference firmware for the twistcoach open IMU GATT profile, version 1
// (firmware-notes/open-profile.md). Board: Arduino Nano 33 BLE (nRF52840 + LSM9DS1),
// Arduino framework, libraries ArduinoBLE and Arduino_LSM9DS1 (see platformio.ini).
//
// What it does: advertises "OpenIMU-<PLACEMENT>" with the profile's service, streams one
// DATA notification per sample (IMU 6D by default, 100 Hz) with a µs timestamp and a
// sequence counter, and accepts CONFIG writes (kind 2 or 3, rate 25/50/100/200 Hz).
// It does not run an orientation filter, so INFO advertises kinds 2 and 3 only.
//
// Not compiled in twistcoach's CI (no toolchain there). Keep the byte layout in sync
// with src/device/open_imu.rs; its tests hold the profile's test vectors.

#include <Arduino.h>
#include <ArduinoBLE.h>
#include <Arduino_LSM9DS1.h>

// ---- Build-time settings -------------------------------------------------------------
#ifndef PLACEMENT_NAME
#define PLACEMENT_NAME "chest"  // shows up in the advertised name
#endif

// Axis remap into the frame the sensor is worn in (+y to the head, +z out of the body).
// Identity = the LSM9DS1 accelerometer/gyroscope axes as drawn in its datasheet.
// The LSM9DS1 magnetometer axes are NOT those of the accelerometer: check the
// datasheet's axis figure for your board and rotate the board to confirm before using
// kind 3 (IMU 9D). The sign flip below is a placeholder to verify, not a fact.
static inline void remap_acc_gyro(float v[3]) { (void)v; }
static inline void remap_mag(float v[3]) { v[0] = -v[0]; }

// ---- Profile constants (open-profile.md) ---------------------------------------------
#define UUID(short_id) "4f70" short_id "-656e-494d-5500-747769737463"
static const uint8_t PROFILE_VERSION = 1;
static const uint8_t KIND_QUATERNION = 1, KIND_IMU6 = 2, KIND_IMU9 = 3;
static const float ACC_COUNTS_PER_G = 2048.0f;
static const float GYRO_COUNTS_PER_DPS = 32.0f;
static const float MAG_COUNTS_PER_UT = 16.0f;
static const uint16_t RATES_HZ[] = {25, 50, 100, 200};

BLEService imuService(UUID("0001"));
BLECharacteristic dataChar(UUID("0002"), BLENotify, 26, /*fixedLength=*/false);
BLECharacteristic configChar(UUID("0003"), BLERead | BLEWrite, 4, /*fixedLength=*/true);
BLECharacteristic infoChar(UUID("0004"), BLERead, 4, /*fixedLength=*/true);

static uint8_t kind = KIND_IMU6;
static uint16_t rate_hz = 100;
static uint16_t sequence = 0;
static uint32_t next_sample_us = 0;
static float acc_g[3], gyro_dps[3], mag_ut[3];

static int16_t saturate(float v) {
  if (v > 32767.0f) return 32767;
  if (v < -32768.0f) return -32768;
  return (int16_t)lroundf(v);
}

static void put_u16(uint8_t *p, uint16_t v) { p[0] = v & 0xff; p[1] = v >> 8; }
static void put_i16(uint8_t *p, int16_t v) { put_u16(p, (uint16_t)v); }
static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (v >> (8 * i)) & 0xff;
}

static uint16_t nearest_rate(uint16_t wanted) {
  uint16_t best = RATES_HZ[0];
  for (uint16_t r : RATES_HZ) {
    if (abs((int)r - (int)wanted) < abs((int)best - (int)wanted)) best = r;
  }
  return best;
}

static void publish_config() {
  uint8_t c[4] = {PROFILE_VERSION, kind, 0, 0};
  put_u16(c + 2, rate_hz);
  configChar.writeValue(c, sizeof c);
}

static void on_config_written(BLEDevice, BLECharacteristic ch) {
  uint8_t c[4];
  if (ch.valueLength() < 4) return;
  ch.readValue(c, 4);
  if (c[0] != PROFILE_VERSION) return;  // unknown version: keep the current config
  if (c[1] == KIND_IMU6 || c[1] == KIND_IMU9) kind = c[1];
  rate_hz = nearest_rate((uint16_t)(c[2] | (c[3] << 8)));
  publish_config();  // the applied values, readable by the host
}

void setup() {
  Serial.begin(115200);
  if (!IMU.begin()) {
    Serial.println("IMU init failed");
    while (true) delay(1000);
  }
  if (!BLE.begin()) {
    Serial.println("BLE init failed");
    while (true) delay(1000);
  }
  BLE.setLocalName("OpenIMU-" PLACEMENT_NAME);
  BLE.setAdvertisedService(imuService);
  imuService.addCharacteristic(dataChar);
  imuService.addCharacteristic(configChar);
  imuService.addCharacteristic(infoChar);
  BLE.addService(imuService);

  uint8_t info[4] = {PROFILE_VERSION, (1 << (KIND_IMU6 - 1)) | (1 << (KIND_IMU9 - 1)), 0, 0};
  put_u16(info + 2, 200);
  infoChar.writeValue(info, sizeof info);
  publish_config();
  configChar.setEventHandler(BLEWritten, on_config_written);

  BLE.advertise();
  next_sample_us = micros();
}

void loop() {
  BLE.poll();
  // Keep the latest reading of each sensor (the LSM9DS1 library samples acc/gyro at
  // 119 Hz and the magnetometer at 20 Hz).
  if (IMU.accelerationAvailable()) IMU.readAcceleration(acc_g[0], acc_g[1], acc_g[2]);
  if (IMU.gyroscopeAvailable()) IMU.readGyroscope(gyro_dps[0], gyro_dps[1], gyro_dps[2]);
  if (IMU.magneticFieldAvailable()) IMU.readMagneticField(mag_ut[0], mag_ut[1], mag_ut[2]);

  const uint32_t now = micros();
  if ((int32_t)(now - next_sample_us) < 0) return;
  next_sample_us += 1000000UL / rate_hz;
  if ((int32_t)(now - next_sample_us) > 0) next_sample_us = now;  // fell behind: resync

  if (!BLE.connected() || !dataChar.subscribed()) return;

  float a[3] = {acc_g[0], acc_g[1], acc_g[2]};
  float g[3] = {gyro_dps[0], gyro_dps[1], gyro_dps[2]};
  float m[3] = {mag_ut[0], mag_ut[1], mag_ut[2]};
  remap_acc_gyro(a);
  remap_acc_gyro(g);
  remap_mag(m);

  uint8_t p[26];
  p[0] = PROFILE_VERSION;
  p[1] = kind;
  put_u16(p + 2, sequence++);  // +1 per packet, wraps: the host detects losses
  put_u32(p + 4, now);         // micros() wraps every 2^32 µs, as the profile says
  for (int i = 0; i < 3; i++) {
    put_i16(p + 8 + 2 * i, saturate(a[i] * ACC_COUNTS_PER_G));
    put_i16(p + 14 + 2 * i, saturate(g[i] * GYRO_COUNTS_PER_DPS));
    put_i16(p + 20 + 2 * i, saturate(m[i] * MAG_COUNTS_PER_UT));
  }
  dataChar.writeValue(p, kind == KIND_IMU9 ? 26 : 20);
}
