"""Demo world, messaging part: chats between demo askers and lawyers over the past days, and a
welcome notice for everyone in them (asker001 and lawyer001, the demo logins, included).

Written through the services, so seqs, read cursors and idempotency are the real ones; running
it twice changes nothing (conversations are keyed, messages carry stable client ids). A chat
counts as there when either of its two people is in a conversation that holds its first message:
after a demo asker (or lawyer) deletes the account, the chat stays with the former account, and
the fresh account the next seed gives the username (accounts.demo) does not get it again."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from messaging.models import Conversation, Message
from messaging.notices import welcome_kind
from messaging.services import conversation_open, message_import, notice_send

ASKER, LAWYER = "asker", "lawyer"

# (who, text): each chat alternates the way a real consultation goes
SCRIPTS: list[list[tuple[str, str]]] = [
    [
        (ASKER, "律师您好，朋友去年借了我两万元，说好半年还，现在一直拖着不还，怎么办？"),
        (LAWYER, "您好。请问当时有没有写借条，或者有转账记录、聊天记录能证明借款？"),
        (ASKER, "有借条，他签了名，转账是微信转的。"),
        (
            LAWYER,
            "证据比较充分。建议先发一封书面催款函，写明还款期限；到期仍不还，可以向他住所地法院起诉，诉讼时效是三年，从约定还款日起算。",
        ),
        (ASKER, "起诉大概要花多少钱？"),
        (
            LAWYER,
            "两万元的标的，案件受理费约三百元，适用简易程序的减半收取。胜诉后这笔费用一般由对方承担。",
        ),
    ],
    [
        (ASKER, "公司已经三个月没发工资了，老板说资金紧张让再等等，我能做什么？"),
        (LAWYER, "拖欠工资属于违法行为。您有劳动合同、工资条或者银行流水吗？"),
        (ASKER, "劳动合同有，工资都是银行卡发的。"),
        (
            LAWYER,
            "可以先向当地劳动保障监察大队投诉，也可以申请劳动仲裁，仲裁不收费。您还可以以拖欠工资为由解除劳动合同，并主张经济补偿。",
        ),
        (ASKER, "明白了，谢谢律师，我先去投诉试试。"),
    ],
    [
        (ASKER, "我骑电动车被一辆小轿车撞了，交警认定对方全责，现在对方保险公司只愿意赔医药费。"),
        (
            LAWYER,
            "除了医药费，您还可以主张误工费、护理费、交通费、营养费，伤情构成伤残的还有伤残赔偿金。",
        ),
        (ASKER, "我住院十天，医生说可能要做伤残鉴定。"),
        (
            LAWYER,
            "建议出院后治疗终结再做鉴定。鉴定结果出来后一并计算，协商不成可以直接起诉车主和保险公司。病历、发票、请假证明都要保存好。",
        ),
    ],
    [
        (ASKER, "离婚的话，孩子两岁，抚养权一般判给谁？"),
        (
            LAWYER,
            "不满两周岁的子女，以由母亲直接抚养为原则；已满两周岁的，法院会按照最有利于未成年子女的原则，综合双方的抚养条件来判断。",
        ),
        (ASKER, "我是爸爸，孩子平时主要是我父母在带。"),
        (
            LAWYER,
            "这对您是有利因素。可以准备孩子日常照料的证据，比如接送、就医记录，以及您的收入和住房情况。",
        ),
        (ASKER, "好的，我整理一下材料再联系您。"),
    ],
    [
        (ASKER, "租房合同到期搬走了，房东以墙面有污渍为由扣了全部押金三千元，合理吗？"),
        (LAWYER, "正常使用造成的损耗不应由租客承担。退房时有没有和房东一起验房、拍照？"),
        (ASKER, "拍了视频，墙面只有几处很小的痕迹。"),
        (
            LAWYER,
            "可以把视频发给房东，要求退还押金；协商不成可以向法院起诉，小额诉讼程序一般一审终审，时间比较快。",
        ),
    ],
    [
        (ASKER, "网购了一部手机，收到后发现是翻新机，商家不给退。"),
        (
            LAWYER,
            "经营者有欺诈行为的，您可以要求退货并按商品价款的三倍赔偿，不足五百元的按五百元。请保存好聊天记录、检测报告和订单信息。",
        ),
        (ASKER, "我先在平台投诉，再不行就去法院？"),
        (LAWYER, "是的，也可以同时向市场监督管理部门投诉。"),
    ],
    [
        (ASKER, "装修公司工期拖延了两个月，合同里写了违约金，但他们说是疫情原因不认。"),
        (
            LAWYER,
            "要看延误是否确实由不可抗力导致，以及对方是否及时通知了您。合同约定的违约金标准是多少？",
        ),
        (ASKER, "每延误一天按总价千分之一。"),
        (
            LAWYER,
            "这个标准不算过高。建议书面催告对方承担违约责任，并保留施工进度的照片和沟通记录。",
        ),
        (ASKER, "好的，谢谢。"),
    ],
    [
        (ASKER, "父亲去世没留遗嘱，老家的房子兄妹三人怎么分？"),
        (
            LAWYER,
            "没有遗嘱的按法定继承，第一顺序继承人是配偶、子女、父母，原则上均等分配。您母亲还健在吗？",
        ),
        (ASKER, "母亲健在。"),
        (
            LAWYER,
            "那么这套房子首先要分出您母亲的夫妻共同财产份额，剩下的部分再由您母亲和你们兄妹三人均分。建议先办理继承公证或者协商一致后办理过户。",
        ),
    ],
]

# (asker number, lawyer number): lawyer001 and asker001 are the demo logins
PAIRS = [(1, 1), (1, 3)] + [(n, 2 * n - 1) for n in range(2, 25)]


def seed(stdout) -> None:
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=[f"asker{a:03d}" for a, _ in PAIRS]
            + [f"lawyer{law:03d}" for _, law in PAIRS]
        )
    }
    now = timezone.now()
    chats = 0
    for index, (asker_no, lawyer_no) in enumerate(PAIRS):
        asker, lawyer = users.get(f"asker{asker_no:03d}"), users.get(f"lawyer{lawyer_no:03d}")
        if asker is None or lawyer is None:
            continue
        script = SCRIPTS[index % len(SCRIPTS)]
        chats += 1
        if Message.objects.filter(
            conversation__kind=Conversation.Kind.DIRECT,
            conversation__participants__user__in=(asker, lawyer),
            body=script[0][1],
        ).exists():
            continue  # seeded before, maybe with an account since deleted
        conversation = conversation_open(
            kind=Conversation.Kind.DIRECT, user_ids=[asker.pk, lawyer.pk]
        )
        if Message.objects.filter(conversation=conversation).exists():
            continue  # they have talked already
        started = now - timedelta(days=index % 9 + 1, hours=index % 7, minutes=index * 7 % 60)
        for n, (who, text) in enumerate(script):
            sender = asker if who == ASKER else lawyer
            message_import(
                sender=sender,
                conversation_id=conversation.pk,
                client_id=f"demo:{conversation.pk}:{n}",
                body=text,
                sent_at=started + timedelta(minutes=3 * n + n * n % 5),
            )
    for user in users.values():
        notice_send(user=user, kind=welcome_kind(user), context={})
    stdout.write(f"  messaging: {chats} demo chats, welcome notices for {len(users)} users")
