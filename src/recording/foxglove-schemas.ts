// Foxglove message schemas as MCAP schema records, from @foxglove/schemas: CompressedImage as Protobuf
// (images are most of a recording's bytes; base64 JSON would add a third), ImageAnnotations as JSON schema.
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { protobufToDescriptor } from '@mcap/support';
import { foxgloveMessageSchemas, generateProto } from '@foxglove/schemas/internal.js';
import { ImageAnnotations } from '@foxglove/schemas/jsonschema.js';

export interface SchemaRecord {
  name: string;
  encoding: string;
  data: Uint8Array;
}

export interface CompressedImageMessage {
  timestamp: { sec: number; nsec: number };
  frame_id: string;
  data: Uint8Array;
  format: string;
}

let imageType: { schema: SchemaRecord; type: protobuf.Type } | undefined;

/** foxglove.CompressedImage as a Protobuf schema (a binary FileDescriptorSet) and its type for encoding. */
export function compressedImageProtobuf(): { schema: SchemaRecord; encode(m: CompressedImageMessage): Uint8Array } {
  if (!imageType) {
    const root = new protobuf.Root();
    protobuf.parse(generateProto(foxgloveMessageSchemas.CompressedImage, []), root, { keepCase: true });
    root.addJSON(protobufCommonTimestamp());
    root.resolveAll();
    const data = descriptor.FileDescriptorSet.encode(protobufToDescriptor(root)).finish();
    imageType = { schema: { name: 'foxglove.CompressedImage', encoding: 'protobuf', data }, type: root.lookupType('foxglove.CompressedImage') };
  }
  const { schema, type } = imageType;
  return {
    schema,
    encode: (m) => type.encode({ timestamp: { seconds: m.timestamp.sec, nanos: m.timestamp.nsec }, frame_id: m.frame_id, data: m.data, format: m.format }).finish(),
  };
}

function protobufCommonTimestamp(): NonNullable<protobuf.INamespace['nested']> {
  const common = (protobuf.common as unknown as Record<string, protobuf.INamespace>)['google/protobuf/timestamp.proto'];
  return common!.nested!;
}

/** foxglove.ImageAnnotations as a JSON schema (messages are small JSON documents). */
export function imageAnnotationsJson(): SchemaRecord {
  return { name: 'foxglove.ImageAnnotations', encoding: 'jsonschema', data: new TextEncoder().encode(JSON.stringify(ImageAnnotations)) };
}
