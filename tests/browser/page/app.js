// The test page: the unmodified TapTalk web SDK, with a thin layer that lets the driver call
// it and see what it reports. One page is one logged-in user (the SDK keeps module state).
import * as sdk from "@taptalk.io/web-sdk";

const seen = [];
window.seen = seen;
window.sdk = sdk;

function record(kind, message) {
  seen.push({ kind, message: JSON.parse(JSON.stringify(message)) });
}

window.login = (apiBase, appId, appSecret, ticket) =>
  new Promise((resolve, reject) => {
    sdk.taptalk.init(appId, appSecret, apiBase);
    sdk.taptalk.addTapListener({
      onTapTalkRefreshTokenExpired: () => seen.push({ kind: "loggedOut" }),
    });
    sdk.tapCoreChatRoomManager.addMessageListener({
      onReceiveNewMessage: (m) => record("new", m),
      onReceiveUpdateMessage: (m) => record("update", m),
    });
    sdk.taptalk.authenticateWithAuthTicket(ticket, false, {
      onSuccess: () =>
        sdk.taptalk.connect({
          onSuccess: () =>
            sdk.tapCoreRoomListManager.getRoomListAndRead({
              onSuccess: (list) => resolve(summary(list)),
              onError: (code, message) => reject(new Error(`room list: ${code} ${message}`)),
            }),
          onClose: () => seen.push({ kind: "closed" }),
          onError: (e) => reject(new Error(`connect: ${e}`)),
        }),
      onError: (code, message) => reject(new Error(`login: ${code} ${message}`)),
    });
  });

function summary(list) {
  const out = {};
  for (const [roomID, entry] of Object.entries(list)) {
    out[roomID] = {
      unreadCount: entry.unreadCount,
      lastBody: entry.lastMessage.body,
      lastType: entry.lastMessage.type,
      name: entry.lastMessage.room.name,
    };
  }
  return out;
}

window.me = () => sdk.taptalk.getTaptalkActiveUser();

window.personalRoom = (userID) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreChatRoomManager.createRoomWithUserID(userID, (result) =>
      result.success ? resolve(result.room) : reject(new Error(JSON.stringify(result.error))),
    ),
  );

window.roomByXcID = (xcRoomID) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreRoomListManager.getRoomByXcID(xcRoomID, {
      onSuccess: (data) => resolve(data.room),
      onError: (code, message) => reject(new Error(`${code} ${message}`)),
    }),
  );

window.sendText = (room, text) =>
  new Promise((resolve) => sdk.tapCoreMessageManager.sendTextMessage(text, room, (m) => resolve(m.localID)));

window.markRead = (messageIDs) => sdk.tapCoreMessageManager.markMessageAsRead(messageIDs);

window.older = (roomID) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreMessageManager.getOlderMessagesBeforeTimestamp(roomID, 50, {
      onSuccess: (messages, hasMore) =>
        resolve({ bodies: Object.values(messages).map((m) => m.body), hasMore }),
      onError: (code, message) => reject(new Error(`${code} ${message}`)),
    }),
  );

window.newer = (roomID) =>
  new Promise((resolve, reject) =>
    sdk.tapCoreMessageManager.getNewerMessagesAfterTimestamp(roomID, {
      onSuccess: (messages) => resolve(Object.values(messages).map((m) => m.body)),
      onError: (code, message) => reject(new Error(`${code} ${message}`)),
    }),
  );

window.roomList = () =>
  new Promise((resolve, reject) =>
    sdk.tapCoreRoomListManager.getRoomListAndRead({
      onSuccess: (list) => resolve(summary(list)),
      onError: (code, message) => reject(new Error(`${code} ${message}`)),
    }),
  );
